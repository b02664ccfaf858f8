// The page's words in English and Chinese (app.js shows them; layers.js has its own).
'use strict';

const TEXT = {
  en: {
    title: 'Draw a digit',
    intro: 'LeNet-5, trained on MNIST, reads it with Paddle Inference, after the same ' +
      'preprocessing as infer.py.',
    hint: 'Draw one digit here, or drop a photo of one',
    canvas: 'Drawing area: draw one digit',
    clear: 'Clear',
    undo: 'Undo',
    upload: 'Upload a photo',
    other: '中文',
    layers: 'What each layer sees',
    answer: 'The model reads',
    seen: 'What the model saw: 28\u00a0×\u00a028 pixels',
    note: 'As in MNIST: white on black, cropped, scaled to fit 20\u00a0×\u00a020, ' +
      'centred by its mass.',
    start: 'Draw a digit to begin.',
    reading: 'Reading…',
    tooLarge: 'is larger than 10 MB: choose a smaller file.',
    offline: 'No answer from the server: is \u201cpython infer.py --serve\u201d still running?',
    notSure: 'not sure',
  },
  zh: {
    title: '写一个数字',
    intro: '在 MNIST 上训练的 LeNet-5 用 Paddle Inference 识别它，预处理与 infer.py 相同。',
    hint: '在这里写一个数字，或拖入一张数字的照片',
    canvas: '画板：写一个数字',
    clear: '清除',
    undo: '撤销',
    upload: '上传照片',
    other: 'English',
    layers: '每一层看到了什么',
    answer: '模型识别为',
    seen: '模型看到的图像：28\u00a0×\u00a028 像素',
    note: '与 MNIST 一样：黑底白字，裁剪后缩放到 20\u00a0×\u00a020 以内，' +
      '再按质心放在 28\u00a0×\u00a028 的中央。',
    start: '写一个数字开始吧。',
    reading: '识别中…',
    tooLarge: '大于 10 MB，请换一个小一些的文件。',
    offline: '服务器没有响应：\u201cpython infer.py --serve\u201d 还在运行吗？',
    notSure: '不确定',
  },
};
