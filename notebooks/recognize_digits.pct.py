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
# # Recognize Digits
#
# English | [中文](recognize_digits.cn.ipynb)
#
# The "Recognize Digits" chapter of the
# [PaddlePaddle book](https://github.com/PaddlePaddle/book/tree/develop/02.recognize_digits)
# (chapter 02, MNIST) with this repository's code on Paddle 3: the data, the chapter's three
# models, one training run that prints the chapter's log lines and draws its cost curves, the
# test accuracy and the confusion matrix, the exported model run by Paddle Inference, and a
# digit of your own.
#
# Run the cells from the top. By default the run is short: LeNet-5 learns from 5,000 images for
# one epoch (about 91% right), and the whole notebook runs in under a minute on two CPU cores.
# Set `FULL_RUN = True` in the second code cell for the chapter's run: 5 epochs over all 60,000
# images, as `python train.py` trains them (in the README's run, 13.4 s an epoch on two CPU
# cores, 99.39%).

# %% [markdown]
# ## Setup
#
# This cell puts the repository (the folder above that holds `train.py`) on Python's path, and
# installs `requirements.txt` only if a package it needs is missing (on a fresh AI Studio or cloud
# machine, say). MNIST is read from the folder `$MNIST_DIR` names, else from Paddle's cache,
# `~/.cache/paddle/dataset/mnist`, downloading its four files (11 MB) there on first use.

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
needed = ("paddle", "numpy", "PIL", "matplotlib", "tqdm")  # what requirements.txt installs
if any(importlib.util.find_spec(module) is None for module in needed):
    subprocess.run([sys.executable, "-m", "pip", "install", "-r", str(ROOT / "requirements.txt")],
                   check=True)
    importlib.invalidate_caches()

# %%
FULL_RUN = False  # True: the chapter's run, 5 epochs over all 60,000 training images

# %% [markdown]
# `prepare_paddle()` comes before `import paddle`, as in `train.py` and `infer.py`: it keeps
# Paddle's own log and warnings out of the notebook. `figure` draws one of `plot.py`'s figures
# (the PNGs `train.py` saves) into memory, to show it here.

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
    """One of plot.py's figures, drawn into memory as the PNG it saves, to show here."""
    png = io.BytesIO()
    plot(*args, png, **kwargs)
    return Image(png.getvalue(), format="png")


print("Paddle", paddle.__version__)

# %% [markdown]
# ## The data: MNIST
#
# MNIST holds 60,000 training and 10,000 test images of handwritten digits, each 28x28 grey
# pixels, white on black, labelled 0-9. The chapter reads it with `paddle.dataset.mnist`, gone
# from Paddle 3; `data.load_mnist` reads the same four files. `raw=True` keeps the pixels as
# stored, 0-255.

# %%
train_raw, train_labels = data.load_mnist("train", raw=True)
test_raw, test_labels = data.load_mnist("test", raw=True)
print("training images", train_raw.shape, "test images", test_raw.shape)
display(figure(plot_digit_grid, train_raw[:30], [str(label) for label in train_labels[:30]],
               title="The first 30 training digits and their labels"))

# %% [markdown]
# The chapter scales the pixels to [-1, 1], `x / 255 * 2 - 1`, and gives the models batches of
# shape [N, 1, 28, 28]: N images of one channel.

# %%
train_images, test_images = data.scale_pixels(train_raw), data.scale_pixels(test_raw)
print(train_images.shape, train_images.dtype, train_images.min(), train_images.max())

# %% [markdown]
# ## The three models
#
# `models.py` builds the chapter's three models under their names, with `paddle.nn` layers:
#
# - `softmax_regression`: one fully connected layer from the 784 pixels to the 10 digits;
# - `multilayer_perceptron`: two hidden fully connected layers of 200 with ReLU, then 10;
# - `convolutional_neural_network`, LeNet-5: a 5x5 convolution of 20 filters, ReLU and a 2x2
#   max-pool; batch norm; a 5x5 convolution of 50 filters, ReLU and a 2x2 max-pool; then a fully
#   connected layer of 10.
#
# Each returns the ten digits' scores; the cost applies the softmax the chapter puts at the end of
# each model. `train.py --model` names them `softmax`, `mlp` and `cnn`.

# %%
from recognize_digits import models

for name, builder in models.MODELS.items():
    print(f"{builder.__name__} (--model {name}): "
          f"{models.count_parameters(models.build(name)):,} parameters")

# %% [markdown]
# ## Training
#
# The chapter's `train_program` (the cross-entropy cost, its mean over the batch, the accuracy)
# and `optimizer_program` (Adam, learning rate 0.001) are functions of `training.py`; its readers
# (a fresh shuffle each epoch, batches of 64) are `readers.TrainingBatches`. The chapter's
# `event_handler`, which prints `Pass %d, Batch %d, Cost %f`, is the pass `train()` of `train.py`,
# and its `train_test`, after each pass, is `train.py`'s `test()`. This notebook calls those two
# functions of `train.py` itself, and takes its settings from `train.py`'s flags and defaults, so
# what runs here is what `python train.py` runs.
#
# Two additions to the chapter, chosen on held-out training images (`docs/results.md`): a moving
# average of the weights is tested and exported (`ExponentialMovingAverage`), and LeNet-5 learns
# from randomly distorted digits. Adding the flags `--ema-decay 0 --no-augment` to `flags` gives
# the chapter's recipe alone.

# %%
import train as train_py  # the repository's train.py

flags = [] if FULL_RUN else ["--epochs", "1", "--train-size", "5000", "--log-interval", "10"]
args = train_py.with_defaults(train_py.parse_args(flags))
print("The same run in a terminal:", " ".join(["python train.py", *flags]))

# %% [markdown]
# The set-up of `train.py`'s `main()`: the seed of the initial weights, the training images, the
# network, Adam, and the moving average.

# %%
from recognize_digits.training import ExponentialMovingAverage, optimizer_program

paddle.seed(args.seed)
images, labels = train_images[:args.train_size], train_labels[:args.train_size]
model = models.build(args.model)
optimizer = optimizer_program(model.parameters(), args.lr)
ema = ExponentialMovingAverage(model, args.ema_decay)
print(train_py.describe(args, model, labels, 0, 1))

# %% [markdown]
# The chapter's training loop. Each epoch: one pass over the training set, in a fresh order; then
# `train_test` on the 10,000 test images with the averaged weights. The best pass so far (the
# lowest test cost) is exported, as the chapter's `save_inference_model` does, and the cost curves
# (the chapter's `event_handler_plot`) are drawn again below the log.

# %%
from recognize_digits import readers
from recognize_digits.inference import default_save_dir
from recognize_digits.plot import plot_costs
from recognize_digits.run.console import Console
from recognize_digits.run.distributed import StopTogether
from recognize_digits.run.model_files import export_model

SAVE_DIR = default_save_dir(args.model)  # recognize_digits_cnn.inference.model, here
console = Console(prog="notebook")  # train.py's output: the log lines, as they come
stop = StopTogether(world=1)  # train.py's Ctrl-C check; here, interrupting stops at once
history, best = {"train": [], "test": []}, None
cost_plot = display(Markdown("*The cost curves are drawn here after each epoch.*"),
                    display_id=True)

for epoch in range(args.epochs):
    batches = readers.TrainingBatches(images, labels, args.batch_size, args.seed, epoch,
                                      args.augment)
    history["train"] += train_py.train(args, model, optimizer, ema, batches, epoch, console, stop)
    with ema.apply():  # the averaged weights are tested, and exported if best
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
# ## The exported model, run by Paddle Inference
#
# The chapter loads its inference model with `load_inference_model` and runs it with an
# executor. Here `Predictor` loads the folder the loop exported (`model.json`,
# `model.pdiparams`) with Paddle Inference, the engine deployments use, and reads the 10,000 test
# digits with it. The confusion matrix counts which digit was read as which.

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
# ## A digit of your own
#
# The chapter's `load_image` only squeezes an image to 28x28 grey. A photo or a drawing of a digit
# is dark ink on light paper, off-centre, its strokes thinner or thicker than MNIST's, and the
# model has only seen white digits fitted into 20x20 and centred by mass in 28x28. `preprocess`
# makes an image look like that (`to_mnist`, what `infer.py` does by default). Below, the
# chapter's `image/infer_3.png`, and a 7 drawn here in dark ink on white paper, off-centre. Set
# `MY_DIGIT` to the path of your own image to read it instead.

# %%
from PIL import Image as PILImage
from PIL import ImageDraw

from recognize_digits.images.loading import load_image, open_image
from recognize_digits.images.preprocess import preprocess

MY_DIGIT = "image/infer_3.png"  # relative to the repository, or the path of your own image
paper = PILImage.new("L", (160, 120), 255)  # white paper, and a 7 in dark ink, off-centre
ImageDraw.Draw(paper).line([(30, 25), (90, 25), (55, 105)], fill=40, width=4)
drawn = io.BytesIO()
paper.save(drawn, format="png")
digits = {MY_DIGIT: (ROOT / MY_DIGIT).read_bytes(), "the 7 drawn here": drawn.getvalue()}

# %% [markdown]
# Each image read both ways, `load_image` (`infer.py --preprocess book`) and `preprocess`
# (`--preprocess mnist`, the default), by the model Paddle Inference runs; the figure shows each
# image and the two 28x28 images the model saw, titled with what it read.

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
# ## Next
#
# `python train.py` trains the chapter's full run from a terminal, and `python infer.py
# image/infer_3.png` reads digits with the model it exports; `infer.py` reads this notebook's
# model too: `python infer.py --model-dir notebooks/recognize_digits_cnn.inference.model
# image/infer_3.png`. The [README](../README.md) explains every flag, the results and the
# differences from the chapter.
