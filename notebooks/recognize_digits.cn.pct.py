# ---
# jupyter:
#   jupytext:
#     formats: ipynb,.pct.py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 数字识别
#
# [English](recognize_digits.ipynb) | 中文
#
# 用本仓库基于 Paddle 3 的代码讲一遍
# [PaddlePaddle book](https://github.com/PaddlePaddle/book/tree/develop/02.recognize_digits)
# 的“数字识别”一章（第 02 章，MNIST）：数据、本章的三个模型、一次打印本章训练日志并画出代价曲线的训练、
# 测试准确率和混淆矩阵、用 Paddle Inference 运行导出的模型，以及识别一个您自己的数字。
#
# 从上到下依次运行各单元。默认是一次简短的训练：LeNet-5 在 5,000 张图片上训练一轮（约 91% 正确），
# 整个笔记本在 2 个 CPU 核上不到一分钟就能运行完。把第二个代码单元改为 `FULL_RUN = True`
# 就是本章的完整训练：在全部 60,000 张图片上训练 5 轮，与 `python train.py` 相同
# （README 中的那次训练：在 2 个 CPU 核上每轮 13.4 s，准确率 99.39%）。

# %% [markdown]
# ## 准备
#
# 这个单元把本仓库（上层目录中含有 `train.py` 的那个目录）加入 Python 的路径，并且只在缺少所需的包时
# （例如在一台新的 AI Studio 或云端机器上）安装 `requirements.txt`。MNIST 从 `$MNIST_DIR` 指定的目录读取，
# 否则从 Paddle 的缓存目录 `~/.cache/paddle/dataset/mnist` 读取，第一次使用时把它的四个文件（11 MB）
# 下载到那里。

# %%
import importlib.util
import subprocess
import sys
from pathlib import Path

if importlib.util.find_spec("recognize_digits") is None:
    here = Path.cwd().resolve()
    root = next((p for p in (here, *here.parents) if (p / "train.py").is_file()), None)
    if root is None:
        raise FileNotFoundError(f"no train.py in {here} or above: open this notebook in the "
                                f"notebooks/ folder of the recognize_digits repository")
    sys.path.insert(0, str(root))
ROOT = Path(importlib.util.find_spec("recognize_digits").origin).parents[1]
needed = ("paddle", "numpy", "PIL", "matplotlib", "tqdm")  # requirements.txt 安装的包
if any(importlib.util.find_spec(module) is None for module in needed):
    subprocess.run([sys.executable, "-m", "pip", "install", "-r", str(ROOT / "requirements.txt")],
                   check=True)
    importlib.invalidate_caches()

# %%
FULL_RUN = False  # True：本章的完整训练，在全部 60,000 张训练图片上训练 5 轮

# %% [markdown]
# `prepare_paddle()` 要在 `import paddle` 之前调用，与 `train.py` 和 `infer.py` 一样：它让 Paddle
# 自己的日志和警告不出现在笔记本中。`figure` 把 `plot.py` 的某个图（即 `train.py` 保存的 PNG）画在内存中，
# 在这里显示。

# %%
import io

import numpy as np
from IPython.display import Image, Markdown, display

from recognize_digits.run.environment import prepare_paddle

prepare_paddle()
import paddle

from recognize_digits import data
from recognize_digits.plot import plot_digit_grid


def figure(plot, *args, **kwargs):
    """plot.py 的一个图，以它保存的 PNG 画在内存中，在这里显示。"""
    png = io.BytesIO()
    plot(*args, png, **kwargs)
    return Image(png.getvalue(), format="png")


print("Paddle", paddle.__version__)

# %% [markdown]
# ## 数据：MNIST
#
# MNIST 包含 60,000 张训练图片和 10,000 张测试图片，都是手写数字，每张 28x28 个灰度像素，黑底白字，
# 标签为 0-9。本章用 `paddle.dataset.mnist` 读取它，Paddle 3 中已经没有了；`data.load_mnist` 读取同样的
# 四个文件。`raw=True` 保留像素的原始值 0-255。

# %%
train_raw, train_labels = data.load_mnist("train", raw=True)
test_raw, test_labels = data.load_mnist("test", raw=True)
print("training images", train_raw.shape, "test images", test_raw.shape)
display(figure(plot_digit_grid, train_raw[:30], [str(label) for label in train_labels[:30]],
               title="The first 30 training digits and their labels"))

# %% [markdown]
# 本章把像素缩放到 [-1, 1]，即 `x / 255 * 2 - 1`，并以形状为 [N, 1, 28, 28] 的 batch 输入模型：
# N 张单通道图片。

# %%
train_images, test_images = data.scale_pixels(train_raw), data.scale_pixels(test_raw)
print(train_images.shape, train_images.dtype, train_images.min(), train_images.max())

# %% [markdown]
# ## 三个模型
#
# `models.py` 用 `paddle.nn` 的层搭建本章的三个模型，名字与本章相同：
#
# - `softmax_regression`（Softmax回归）：一个从 784 个像素到 10 个数字的全连接层；
# - `multilayer_perceptron`（多层感知器）：两个 200 个单元、带 ReLU 的隐藏全连接层，再接 10 个输出；
# - `convolutional_neural_network`（LeNet-5 卷积神经网络）：20 个 5x5 卷积核的卷积、ReLU 和 2x2 最大池化；
#   批归一化；50 个 5x5 卷积核的卷积、ReLU 和 2x2 最大池化；最后是 10 个输出的全连接层。
#
# 每个模型输出十个数字的分数；本章放在每个模型末尾的 softmax 由代价函数来做。`train.py --model`
# 把它们叫作 `softmax`、`mlp` 和 `cnn`。

# %%
from recognize_digits import models

for name, builder in models.MODELS.items():
    print(f"{builder.__name__} (--model {name}): "
          f"{models.count_parameters(models.build(name)):,} parameters")

# %% [markdown]
# ## 训练
#
# 本章的 `train_program`（交叉熵代价、它在 batch 上的平均值、准确率）和 `optimizer_program`
# （Adam，学习率 0.001）是 `training.py` 中的函数；本章的 reader（每轮重新打乱顺序，每个 batch 64 张图片）
# 是 `readers.TrainingBatches`。本章打印 `Pass %d, Batch %d, Cost %f` 的 `event_handler` 是 `train.py`
# 中训练一轮的 `train()`，每轮之后的 `train_test` 是 `train.py` 的 `test()`。这个笔记本直接调用
# `train.py` 的这两个函数，设置也取自 `train.py` 的参数和默认值，所以这里运行的就是 `python train.py`
# 运行的内容。
#
# 两处对本章的补充，都是在留出的训练图片上选定的（`docs/results.md`）：测试和导出的是权重的滑动平均
# （`ExponentialMovingAverage`），LeNet-5 在随机变形的数字上训练。在 `flags` 中加上参数
# `--ema-decay 0 --no-augment` 就是本章原本的训练方法。

# %%
import train as train_py  # 本仓库的 train.py

flags = [] if FULL_RUN else ["--epochs", "1", "--train-size", "5000", "--log-interval", "10"]
args = train_py.with_defaults(train_py.parse_args(flags))
print("The same run in a terminal:", " ".join(["python train.py", *flags]))

# %% [markdown]
# `train.py` 的 `main()` 中的准备工作：初始权重的随机种子、训练图片、网络、Adam 和滑动平均。

# %%
from recognize_digits.training import ExponentialMovingAverage, optimizer_program

paddle.seed(args.seed)
images, labels = train_images[:args.train_size], train_labels[:args.train_size]
model = models.build(args.model)
optimizer = optimizer_program(model.parameters(), args.lr)
ema = ExponentialMovingAverage(model, args.ema_decay)
print(train_py.describe(args, model, labels, 0, 1))

# %% [markdown]
# 本章的训练循环。每一轮：按新的顺序遍历一遍训练集；然后用平均后的权重在 10,000 张测试图片上做
# `train_test`。到目前为止最好的一轮（测试代价最低）会被导出，就像本章的 `save_inference_model`
# 那样；代价曲线（本章的 `event_handler_plot`）在日志下方重新画出。

# %%
from recognize_digits import readers
from recognize_digits.inference import default_save_dir
from recognize_digits.plot import plot_costs
from recognize_digits.run.console import Console
from recognize_digits.run.distributed import StopTogether
from recognize_digits.run.model_files import export_model

SAVE_DIR = default_save_dir(args.model)  # recognize_digits_cnn.inference.model，在当前目录
console = Console(prog="notebook")  # train.py 的输出：日志行，随训练打印
stop = StopTogether(world=1)  # train.py 的 Ctrl-C 检查；在这里，中断内核会立即停止
history, best = {"train": [], "test": []}, None
cost_plot = display(Markdown("*The cost curves are drawn here after each epoch.*"),
                    display_id=True)

for epoch in range(args.epochs):
    batches = readers.TrainingBatches(images, labels, args.batch_size, args.seed, epoch,
                                      args.augment)
    history["train"] += train_py.train(args, model, optimizer, ema, batches, epoch, console, stop)
    with ema.apply():  # 测试平均后的权重，如果是最好的一轮就导出
        avg_cost, acc = train_py.test(model, test_images, test_labels, epoch, console)
        history["test"].append([(epoch + 1) * len(batches), avg_cost, acc])
        if best is None or avg_cost < best["test_cost"]:
            best = {"epoch": epoch, "test_cost": avg_cost, "test_acc": acc}
            export_model(SAVE_DIR, model, train_py.model_info(args, best))
    cost_plot.update(figure(plot_costs, history,
                            title=f"{models.CHAPTER_NAMES[args.model]}: train and test cost"))

print("Best pass is %s, testing Avgcost is %s" % (best["epoch"], best["test_cost"]))
print("The classification accuracy is %.2f%%" % (best["test_acc"] * 100))

# %% [markdown]
# ## 用 Paddle Inference 运行导出的模型
#
# 本章用 `load_inference_model` 加载推断模型，再用 executor 运行它。这里 `Predictor` 用 Paddle Inference
# （部署时使用的推理引擎）加载训练循环导出的目录（`model.json`、`model.pdiparams`），并用它识别 10,000 张
# 测试图片。混淆矩阵统计每个数字被识别成了哪个数字。

# %%
from recognize_digits.inference import Predictor
from recognize_digits.plot import confusion_matrix, format_per_class, plot_confusion

predictor = Predictor(SAVE_DIR)
predicted = predictor(test_images).argmax(axis=1)
counts = confusion_matrix(test_labels, predicted)
print(f"Paddle Inference reads {(predicted == test_labels).sum():,} of the 10,000 test digits "
      f"right: {(predicted == test_labels).mean():.2%}")
print("Per-class accuracy: " + format_per_class(counts))
display(figure(plot_confusion, counts, name=models.CHAPTER_NAMES[args.model]))

# %% [markdown]
# ## 您自己的数字
#
# 本章的 `load_image` 只是把图片缩放成 28x28 的灰度图。而一张数字的照片或手绘图是浅色纸上的深色笔迹，
# 位置不在正中，笔画比 MNIST 的细或粗；模型却只见过缩放到 20x20、按质心居中放在 28x28 中的白色数字。
# `preprocess` 把图片处理成那个样子（`to_mnist`，`infer.py` 默认的做法）。下面是本章的
# `image/infer_3.png`，以及在这里用深色笔迹画在白纸上、不在正中的一个 7。把 `MY_DIGIT`
# 设为您自己图片的路径，就可以识别您的图片。

# %%
from PIL import Image as PILImage
from PIL import ImageDraw

from recognize_digits.images.loading import load_image, open_image
from recognize_digits.images.preprocess import preprocess

MY_DIGIT = "image/infer_3.png"  # 相对于仓库的路径，或您自己图片的路径
paper = PILImage.new("L", (160, 120), 255)  # 一张白纸，上面用深色笔迹画一个不在正中的 7
ImageDraw.Draw(paper).line([(30, 25), (90, 25), (55, 105)], fill=40, width=4)
drawn = io.BytesIO()
paper.save(drawn, format="png")
digits = {MY_DIGIT: (ROOT / MY_DIGIT).read_bytes(), "the 7 drawn here": drawn.getvalue()}

# %% [markdown]
# 每张图片用两种方式读取：`load_image`（`infer.py --preprocess book`）和 `preprocess`
# （`--preprocess mnist`，默认），再由 Paddle Inference 运行的模型识别；图中是每张图片和模型看到的两张
# 28x28 图片，标题是识别结果。

# %%
shown, titles = [], []
for name, image in digits.items():
    book = load_image(io.BytesIO(image), name)
    mnist = preprocess(io.BytesIO(image), name=name)
    book_label, mnist_label = predictor(np.concatenate([book, mnist])).argmax(axis=1)
    print("Inference result of %s is: %d" % (name, mnist_label))
    shown += [np.asarray(open_image(io.BytesIO(image), name)),
              *[np.round((x[0, 0] + 1) * 127.5).astype(np.uint8) for x in (book, mnist)]]
    titles += ["the image", f"book: {book_label}", f"mnist: {mnist_label}"]
display(figure(plot_digit_grid, shown, titles, columns=3))

# %% [markdown]
# ## 接下来
#
# 在终端中运行 `python train.py` 就是本章的完整训练，`python infer.py image/infer_3.png`
# 用它导出的模型识别数字；`infer.py` 也能读取这个笔记本的模型：`python infer.py --model-dir
# notebooks/recognize_digits_cnn.inference.model image/infer_3.png`。[README](../README.cn.md)
# 说明了每个参数、结果以及与本章的不同之处。
