// The page of `python infer.py --serve`: draw on the canvas (mouse, pen or finger, through
// Pointer Events) or upload / drop a photo; the image goes to POST /predict, which reads it as
// infer.py does; the answer, its top 3, the 28x28 image the model saw and what each layer saw
// (layers.js) are shown. A drawing is sent as soon as the pen is lifted.
'use strict';

// TEXT, the page's words in each language: text.js.

const MAX_BYTES = 10 * 1024 * 1024; // the server refuses larger uploads (413)
const STROKE = 0.07; // pen width, as a fraction of the canvas side: a digit drawn across most of
// the canvas then has strokes about as wide, relative to its size, as MNIST's (2 px in 20)
const CELL = 8; // each of the 28x28 pixels the model saw is shown as a square this many px wide

const canvas = document.getElementById('canvas');
const ctx = canvas.getContext('2d');
const pad = document.getElementById('pad');
const hint = document.getElementById('hint');
const fileInput = document.getElementById('file');
const statusLine = document.getElementById('status');
const undoButton = document.getElementById('undo');
let language = pickLanguage();
let text = TEXT[language];

let drawing = null; // the pointer drawing now: {id, points}
let strokes = []; // every stroke on the canvas, as lists of points: undo redraws all but the last
let photoShown = false; // an uploaded photo is on the canvas: the next stroke starts afresh
let asked = 0; // number of the latest request: older answers arriving late are dropped
let lastAnswer = null; // shown again, in the other language, when the language is switched

// --- Language ----------------------------------------------------------------------------------

function pickLanguage() {
  // ?lang=zh or ?lang=en, else the first of the user's languages that the page has; else English.
  const chosen = new URLSearchParams(location.search).get('lang');
  if (chosen in TEXT) return chosen;
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const code = tag.toLowerCase().slice(0, 2);
    if (code in TEXT) return code;
  }
  return 'en';
}

function translate() {
  document.documentElement.lang = language === 'zh' ? 'zh-CN' : 'en';
  document.title = 'Recognize Digits: ' + text.title;
  for (const element of document.querySelectorAll('[data-text]')) {
    element.textContent = text[element.dataset.text];
  }
  canvas.setAttribute('aria-label', text.canvas);
  const other = document.getElementById('language');
  other.lang = language === 'zh' ? 'en' : 'zh-CN'; // the button is written in the other language
}

function switchLanguage() {
  // 中文 <-> English: the page, and the answer on show, retold; the URL keeps the choice.
  language = language === 'zh' ? 'en' : 'zh';
  text = TEXT[language];
  translate();
  history.replaceState(null, '', '?lang=' + language);
  if (lastAnswer) showAnswer(lastAnswer);
  else if (!statusLine.classList.contains('error')) setStatus(text.start);
}

// --- Drawing -----------------------------------------------------------------------------------

function clearCanvas() {
  ctx.fillStyle = '#fff'; // white paper, dark ink: the drawing is read like a photo of a page
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  hint.hidden = false;
  strokes = [];
  photoShown = false;
  undoButton.disabled = true;
}

function point(event) {
  // Pointer position in canvas pixels (the canvas is shown smaller or larger than its pixels).
  const box = canvas.getBoundingClientRect();
  return {
    x: (event.clientX - box.left) * canvas.width / box.width,
    y: (event.clientY - box.top) * canvas.height / box.height,
  };
}

function dot(p) {
  // A round blot of the pen's width: a tap (a stroke that never moved) is a dot, not nothing
  // (a canvas does not stroke a line of zero length).
  ctx.fillStyle = '#111';
  ctx.beginPath();
  ctx.arc(p.x, p.y, STROKE * canvas.width / 2, 0, 2 * Math.PI);
  ctx.fill();
}

function line(from, to) {
  ctx.strokeStyle = '#111';
  ctx.lineWidth = STROKE * canvas.width;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.beginPath();
  ctx.moveTo(from.x, from.y);
  ctx.lineTo(to.x, to.y);
  ctx.stroke();
}

function startStroke(event) {
  if (!event.isPrimary || (event.pointerType === 'mouse' && event.button !== 0)) return;
  event.preventDefault();
  if (photoShown) clearCanvas(); // drawing over a photo would send the mix: start afresh
  canvas.setPointerCapture(event.pointerId);
  const p = point(event);
  drawing = {id: event.pointerId, points: [p]};
  dot(p);
  hint.hidden = true;
}

function moveStroke(event) {
  if (!drawing || event.pointerId !== drawing.id) return;
  // Coalesced events: every position the pointer passed since the last frame, for smooth lines.
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  for (const e of events.length ? events : [event]) {
    const p = point(e);
    line(drawing.points.at(-1), p);
    drawing.points.push(p);
  }
}

function endStroke(event) {
  if (!drawing || event.pointerId !== drawing.id) return;
  strokes.push(drawing.points);
  drawing = null;
  undoButton.disabled = false;
  sendDrawing(); // at once: the answer comes while the pen is up (a late one is dropped)
}

function undo() {
  // Take the last stroke away: clear, then draw the others again.
  if (drawing || !strokes.length) return;
  const kept = strokes.slice(0, -1);
  clearCanvas();
  for (const points of kept) {
    dot(points[0]);
    points.slice(1).forEach((p, i) => line(points[i], p));
  }
  strokes = kept;
  undoButton.disabled = !kept.length;
  if (kept.length) {
    hint.hidden = true;
    sendDrawing();
  } else {
    clearAll();
  }
}

function sendDrawing() {
  // toDataURL, not toBlob: Chromium encodes a toBlob in idle time, which took a whole second
  // here; toDataURL takes a few milliseconds. The PNG's bytes are then decoded from base64.
  const base64 = canvas.toDataURL('image/png').split(',')[1];
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  predict(new Blob([bytes], {type: 'image/png'}), null);
}

// --- Photos ------------------------------------------------------------------------------------

async function usePhoto(file) {
  if (!file) return;
  if (file.size > MAX_BYTES) {
    asked++;
    showError(`${file.name} ${text.tooLarge}`);
    return;
  }
  clearCanvas();
  try { // show it on the canvas, fitted (a format the browser cannot show is still sent)
    const image = await createImageBitmap(file);
    const scale = Math.min(canvas.width / image.width, canvas.height / image.height);
    const w = image.width * scale;
    const h = image.height * scale;
    ctx.drawImage(image, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
    hint.hidden = true;
  } catch (err) {
    hint.textContent = file.name;
  }
  photoShown = true;
  predict(file, file.name); // the file itself, not the canvas: read exactly as infer.py reads it
}

function dragOver(event) {
  event.preventDefault();
  pad.classList.add('dragging');
}

function drop(event) {
  event.preventDefault();
  pad.classList.remove('dragging');
  usePhoto(event.dataTransfer.files[0]);
}

// --- Asking the server and showing the answer --------------------------------------------------

async function predict(body, name) {
  // `name`: the photo's file name, or null for the drawing. The server's errors come back in
  // the page's language (lang), calling a drawing "your drawing".
  const mine = ++asked;
  setStatus(text.reading);
  let answer;
  let ok = false;
  try {
    const source = name === null ? 'drawing=1' : 'name=' + encodeURIComponent(name);
    const url = `/predict?top_k=3&layers=1&lang=${language}&${source}`;
    const response = await fetch(url, {method: 'POST', body});
    ok = response.ok;
    answer = await response.json();
  } catch (err) {
    answer = {error: text.offline};
  }
  if (mine !== asked) return; // a newer drawing or photo has been sent since
  if (ok) {
    showAnswer(answer);
    showNearby();
  } else {
    showError(answer.error || text.offline);
  }
}

function showNearby() {
  // On a phone the answer is below the canvas: scroll just enough to show the digit and the
  // 28x28 image (not while a finger is drawing the next stroke).
  const stacked = resultPanel().offsetTop > pad.offsetTop + pad.offsetHeight;
  if (stacked && !drawing) {
    document.getElementById('previews').scrollIntoView({block: 'nearest', behavior: 'smooth'});
  }
}

function resultPanel() {
  return document.getElementById('result-panel');
}

function showAnswer(answer) {
  lastAnswer = answer;
  showLayers(answer.layers, language); // layers.js
  document.getElementById('digit').textContent = answer.number ?? answer.label;
  // The best guess always; "not sure" beside it when the reader is not (answer.sure false).
  document.getElementById('confidence').textContent =
      percent(answer.probability) + (answer.sure === false ? ' \u00b7 ' + text.notSure : '');
  document.getElementById('digit').classList.toggle('unsure', answer.sure === false);
  const bars = document.getElementById('bars');
  bars.replaceChildren(...answer.top_k.map(bar));
  const inputs = Array.isArray(answer.input) ? answer.input : [answer.input];
  document.getElementById('previews').replaceChildren(...inputs.map(preview));
  setStatus('');
}

function bar(guess) {
  // One row of the top 3: the digit (or number), a bar as long as its probability, the percentage.
  const fill = element('span', 'fill');
  fill.style.display = 'block';
  fill.style.width = percent(guess.probability);
  const track = element('span', 'track');
  track.append(fill);
  const item = element('li');
  item.append(element('span', '', guess.number ?? guess.label), track,
              element('span', 'percent', percent(guess.probability)));
  return item;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function percent(p) {
  return (100 * p).toFixed(1) + '%';
}

function preview(base64) {
  // The 28x28 PNG drawn large, each pixel a square with a thin line between: the pixels show.
  const big = document.createElement('canvas');
  big.width = big.height = 28 * CELL + 1;
  const image = new Image();
  image.onload = () => {
    const small = document.createElement('canvas');
    small.width = small.height = 28;
    const smallCtx = small.getContext('2d');
    smallCtx.drawImage(image, 0, 0);
    const pixels = smallCtx.getImageData(0, 0, 28, 28).data;
    const g = big.getContext('2d');
    g.fillStyle = '#303030';
    g.fillRect(0, 0, big.width, big.height);
    for (let i = 0; i < 28 * 28; i++) {
      const v = pixels[4 * i];
      g.fillStyle = `rgb(${v},${v},${v})`;
      g.fillRect((i % 28) * CELL + 1, Math.floor(i / 28) * CELL + 1, CELL - 1, CELL - 1);
    }
    big.dataset.ready = 'true';
  };
  image.src = 'data:image/png;base64,' + base64;
  return big;
}

function showError(message) {
  lastAnswer = null;
  showLayers(null);
  document.getElementById('digit').textContent = '?';
  document.getElementById('confidence').textContent = '';
  document.getElementById('bars').replaceChildren();
  document.getElementById('previews').replaceChildren();
  setStatus(message, true);
}

function setStatus(message, isError = false) {
  statusLine.textContent = message;
  statusLine.classList.toggle('error', isError);
}

function clearAll() {
  asked++;
  clearCanvas();
  hint.textContent = text.hint;
  showError('');
  setStatus(text.start);
}

// --- Wiring ------------------------------------------------------------------------------------

translate();
clearCanvas();
canvas.addEventListener('pointerdown', startStroke);
canvas.addEventListener('pointermove', moveStroke);
canvas.addEventListener('pointerup', endStroke);
canvas.addEventListener('pointercancel', endStroke);
document.getElementById('clear').addEventListener('click', clearAll);
undoButton.addEventListener('click', undo);
document.getElementById('language').addEventListener('click', switchLanguage);
document.addEventListener('keydown', (event) => {
  // Ctrl+Z (Cmd+Z on a Mac) takes the last stroke away, as in a drawing program.
  if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === 'z') {
    event.preventDefault();
    undo();
  }
});
fileInput.addEventListener('change', () => {
  usePhoto(fileInput.files[0]);
  fileInput.value = ''; // so that choosing the same file again is a change too
});
pad.addEventListener('dragenter', dragOver);
pad.addEventListener('dragover', dragOver);
pad.addEventListener('dragleave', () => pad.classList.remove('dragging'));
pad.addEventListener('drop', drop);
// A photo dropped beside the canvas is not opened by the browser in place of the page.
window.addEventListener('dragover', (event) => event.preventDefault());
window.addEventListener('drop', (event) => event.preventDefault());
