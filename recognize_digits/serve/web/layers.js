// What each layer of the model sees (POST /predict?layers=1, recognize_digits/serve/layers.py):
// for every layer from the input to the answer, its maps (one small grey PNG per channel) or,
// for a fully connected layer, one PNG of all its units. Brighter means a stronger answer.
// app.js calls showLayers(answer.layers, language) after each answer.
'use strict';

const LAYER_TEXT = {
  en: {
    img: ['input: img', 'The 28\u00a0×\u00a028 image the network reads, scaled to [-1, 1].'],
    conv1: ['conv_pool_1: conv',
      '20 filters of 5\u00a0×\u00a05 slide over the image; each map is bright where its ' +
      'pattern (a stroke, an edge at some angle) is found. ReLU sets negatives to 0.'],
    filters: 'Its 20 learned filters (white: positive weights, black: negative):',
    pool1: ['conv_pool_1: pool',
      'Max-pool 2\u00a0×\u00a02: keeps the strongest answer of each 2\u00a0×\u00a02 square, so a ' +
      'small shift of the pen no longer matters.'],
    batch_norm: ['batch_norm',
      'Rescales each map with the mean and variance learned in training, so that the next ' +
      'layer gets inputs of an even size.'],
    conv2: ['conv_pool_2: conv',
      '50 filters of 5\u00a0×\u00a05, each looking at all 20 maps: strokes combine into larger ' +
      'parts of digits.'],
    pool2: ['conv_pool_2: pool', 'Max-pool again: 50 maps of 4\u00a0×\u00a04, 800 numbers in all.'],
    hidden1: ['hidden1: fc, ReLU',
      '200 units, each a weighted sum of all 784 pixels, negatives set to 0 (10 rows of 20).'],
    hidden2: ['hidden2: fc, ReLU',
      '200 units, each a weighted sum of the 200 before, negatives set to 0 (10 rows of 20).'],
    prediction: ['prediction: fc, softmax',
      'A fully connected layer gives each digit a score; softmax turns the scores into ' +
      'probabilities. Brightest: the answer.'],
  },
  zh: {
    img: ['输入：img', '网络读入的 28\u00a0×\u00a028 图像，缩放到 [-1, 1]。'],
    conv1: ['conv_pool_1：卷积 conv',
      '20 个 5\u00a0×\u00a05 的卷积核在图上滑动；哪里出现它的图案（某个方向的笔画、边缘），' +
      '特征图哪里就亮。ReLU 把负值变为 0。'],
    filters: '它学到的 20 个卷积核（白：正权重，黑：负权重）：',
    pool1: ['conv_pool_1：池化 pool',
      '2\u00a0×\u00a02 最大池化：每个 2\u00a0×\u00a02 方块只留最强的响应，笔画稍微挪动也不影响。'],
    batch_norm: ['batch_norm：批归一化',
      '用训练时学到的均值和方差缩放每张特征图，让下一层的输入大小均匀。'],
    conv2: ['conv_pool_2：卷积 conv',
      '50 个 5\u00a0×\u00a05 的卷积核，每个都看全部 20 张特征图：笔画组合成数字的较大部件。'],
    pool2: ['conv_pool_2：池化 pool', '再次最大池化：50 张 4\u00a0×\u00a04 的特征图，共 800 个数。'],
    hidden1: ['hidden1：全连接 fc，ReLU',
      '200 个单元，每个是全部 784 个像素的加权和，负值变为 0（10 行，每行 20 个）。'],
    hidden2: ['hidden2：全连接 fc，ReLU',
      '200 个单元，每个是上一层 200 个单元的加权和，负值变为 0（10 行，每行 20 个）。'],
    prediction: ['prediction：全连接 fc，softmax',
      '全连接层给每个数字打分，softmax 把分数变成概率。最亮的就是答案。'],
  },
};

// Shown size of one pixel of a layer's maps, in CSS pixels: small maps are drawn larger.
// (A dense layer's one image is as wide as the panel allows: style.css.)
const PIXEL = {img: 3, conv1: 2, pool1: 3, batch_norm: 3, conv2: 4, pool2: 6, filters: 6};

function showLayers(layers, language) {
  const panel = document.getElementById('layers-panel');
  const list = document.getElementById('layers');
  if (!layers) {
    panel.hidden = true;
    list.replaceChildren();
    return;
  }
  const text = LAYER_TEXT[language];
  list.replaceChildren(...layers.map((layer) => layerRow(layer, text)));
  panel.hidden = false;
}

function layerRow(layer, text) {
  // One layer: its name as the chapter writes it, its shape, one line on what it does, its maps.
  const [title, line] = text[layer.name] || [layer.name, ''];
  const row = document.createElement('section');
  row.className = 'layer';
  row.dataset.layer = layer.name;
  const heading = document.createElement('h3');
  heading.textContent = title + ' ';
  const shape = document.createElement('span');
  shape.className = 'shape';
  shape.textContent = '[' + layer.shape.join('\u00a0×\u00a0') + ']';
  heading.append(shape);
  const about = document.createElement('p');
  about.textContent = line;
  row.append(heading, about, tiles(layer, layer.images, PIXEL[layer.name]));
  if (layer.filters) {
    const caption = document.createElement('p');
    caption.textContent = text.filters;
    row.append(caption, tiles(layer, layer.filters, PIXEL.filters, 'filters'));
  }
  return row;
}

function tiles(layer, images, pixel, kind = 'maps') {
  // The PNGs side by side, each pixel a sharp square (CSS image-rendering: pixelated).
  const box = document.createElement('div');
  box.className = 'tiles ' + kind + (layer.shape.length === 1 ? ' dense' : '');
  for (const base64 of images) {
    const image = new Image();
    image.alt = '';
    image.src = 'data:image/png;base64,' + base64;
    if (pixel) image.style.width = (kind === 'filters' ? 5 : layer.shape[2]) * pixel + 'px';
    box.append(image);
  }
  if (layer.name === 'prediction') {
    // The ten cells are the digits 0 to 9: label them.
    const digits = document.createElement('div');
    digits.className = 'digits';
    for (let d = 0; d < layer.shape[0]; d++) digits.append(Object.assign(
      document.createElement('span'), {textContent: String(d)}));
    box.append(digits);
  }
  return box;
}
