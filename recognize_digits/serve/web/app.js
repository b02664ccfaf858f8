// The page of `python infer.py --serve`: draw on the canvas (mouse, pen or finger, through
// Pointer Events) or upload / drop a photo; the image goes to POST /predict, which reads it as
// infer.py does; the answer, its top 3 and the 28x28 image the model saw are shown.
'use strict';

const TEXT = {
  en: {
    title: 'Draw a digit',
    intro: 'LeNet-5, trained on MNIST, reads it with Paddle Inference, after the same ' +
      'preprocessing as infer.py.',
    hint: 'Draw one digit here, or drop a photo of one',
    canvas: 'Drawing area: draw one digit',
    clear: 'Clear',
    upload: 'Upload a photo',
    answer: 'The model reads',
    seen: 'What the model saw: 28\u00a0×\u00a028 pixels',
    note: 'As in MNIST: white on black, cropped, scaled to fit 20\u00a0×\u00a020, ' +
      'centred by its mass.',
    start: 'Draw a digit to begin.',
    reading: 'Reading…',
    tooLarge: 'is larger than 10 MB: choose a smaller file.',
    offline: 'No answer from the server: is `python infer.py --serve` still running?',
    notSure: 'not sure',
  },
  zh: {
    title: '写一个数字',
    intro: '在 MNIST 上训练的 LeNet-5 用 Paddle Inference 识别它，预处理与 infer.py 相同。',
    hint: '在这里写一个数字，或拖入一张数字的照片',
    canvas: '画板：写一个数字',
    clear: '清除',
    upload: '上传照片',
    answer: '模型识别为',
    seen: '模型看到的图像：28\u00a0×\u00a028 像素',
    note: '与 MNIST 一样：黑底白字，裁剪后缩放到 20\u00a0×\u00a020 以内，' +
      '再按质心放在 28\u00a0×\u00a028 的中央。',
    start: '写一个数字开始吧。',
    reading: '识别中…',
    tooLarge: '大于 10 MB，请换一个小一些的文件。',
    offline: '服务器没有响应：`python infer.py --serve` 还在运行吗？',
    notSure: '不确定',
  },
};

const MAX_BYTES = 10 * 1024 * 1024; // the server refuses larger uploads (413)
const STROKE = 0.07; // pen width, as a fraction of the canvas side: a digit drawn across most of
// the canvas then has strokes about as wide, relative to its size, as MNIST's (2 px in 20)
const DEBOUNCE_MS = 300; // after the last stroke, wait this long for another before asking
const CELL = 8; // each of the 28x28 pixels the model saw is shown as a square this many px wide

const canvas = document.getElementById('canvas');
const ctx = canvas.getContext('2d');
const pad = document.getElementById('pad');
const hint = document.getElementById('hint');
const fileInput = document.getElementById('file');
const statusLine = document.getElementById('status');
const text = TEXT[pickLanguage()];

let drawing = null; // the pointer drawing now: {id, x, y}
let timer = 0;
let asked = 0; // number of the latest request: older answers arriving late are dropped

// --- Language ----------------------------------------------------------------------------------

function pickLanguage() {
  // The first of the user's languages that the page has; English when there is none.
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const code = tag.toLowerCase().slice(0, 2);
    if (code in TEXT) return code;
  }
  return 'en';
}

function translate() {
  document.documentElement.lang = text === TEXT.zh ? 'zh-CN' : 'en';
  document.title = 'Recognize Digits: ' + text.title;
  for (const element of document.querySelectorAll('[data-text]')) {
    element.textContent = text[element.dataset.text];
  }
  canvas.setAttribute('aria-label', text.canvas);
}

// --- Drawing -----------------------------------------------------------------------------------

function clearCanvas() {
  ctx.fillStyle = '#fff'; // white paper, dark ink: the drawing is read like a photo of a page
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  hint.hidden = false;
}

function point(event) {
  // Pointer position in canvas pixels (the canvas is shown smaller or larger than its pixels).
  const box = canvas.getBoundingClientRect();
  return {
    x: (event.clientX - box.left) * canvas.width / box.width,
    y: (event.clientY - box.top) * canvas.height / box.height,
  };
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
  clearTimeout(timer); // another stroke is coming: ask once it is done
  canvas.setPointerCapture(event.pointerId);
  const p = point(event);
  drawing = {id: event.pointerId, ...p};
  line(p, p); // a tap leaves a dot
  hint.hidden = true;
}

function moveStroke(event) {
  if (!drawing || event.pointerId !== drawing.id) return;
  // Coalesced events: every position the pointer passed since the last frame, for smooth lines.
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  for (const e of events.length ? events : [event]) {
    const p = point(e);
    line(drawing, p);
    Object.assign(drawing, p);
  }
}

function endStroke(event) {
  if (!drawing || event.pointerId !== drawing.id) return;
  drawing = null;
  clearTimeout(timer);
  timer = setTimeout(sendDrawing, DEBOUNCE_MS);
}

function sendDrawing() {
  canvas.toBlob((blob) => predict(blob, 'drawing.png'), 'image/png');
}

// --- Photos ------------------------------------------------------------------------------------

async function usePhoto(file) {
  if (!file) return;
  clearTimeout(timer);
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
  const mine = ++asked;
  setStatus(text.reading);
  let answer;
  let ok = false;
  try {
    const url = '/predict?top_k=3&name=' + encodeURIComponent(name);
    const response = await fetch(url, {method: 'POST', body});
    ok = response.ok;
    answer = await response.json();
  } catch (err) {
    answer = {error: text.offline};
  }
  if (mine !== asked) return; // a newer drawing or photo has been sent since
  if (ok) showAnswer(answer);
  else showError(answer.error || text.offline);
}

function showAnswer(answer) {
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
  clearTimeout(timer);
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
