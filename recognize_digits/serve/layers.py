"""What each layer of the model sees: the activations behind one answer, as small PNGs.

Paddle Inference runs the exported program as one piece and hands back only its output, the ten
probabilities. To show the layers in between, the network is built again here in Paddle's
dynamic graph (`models.build(info["model"])`, the same code train.py built it with) and given the
very weights the Predictor loaded, read from the model folder's model.pdiparams with
`paddle.jit.load`. `LayerReader.check_against(predictor)` proves the two are one model: on
probe images the rebuilt network's probabilities must equal the Predictor's, or the layers are
not offered at all.

    LeNet-5 (cnn)   img -> conv1 -> pool1 -> batch_norm -> conv2 -> pool2 -> prediction
    MLP (mlp)       img -> hidden1 -> hidden2 -> prediction
    softmax         img -> prediction

`conv1` and `conv2` are the convolution's maps with its bias and ReLU, before the max-pool (the
chapter's `simple_img_conv_pool` convolves, applies ReLU, then pools); models.SimpleImgConvPool
pools first and adds the bias after, which gives the same `pool` maps (see its docstring).
"""

import os
import sys
import threading

import numpy as np
import paddle
import paddle.nn.functional as F

from recognize_digits import models
from recognize_digits.inference import MODEL_PREFIX, ModelError, paddle_path
from recognize_digits.run.model_files import PROBE_IMAGES
from recognize_digits.serve.reading import png

PROBE_TOLERANCE = 1e-4  # the Predictor (oneDNN) and the dynamic graph round a little differently
GRID_COLUMNS = 20  # a dense layer of 200 units is shown as a 10 x 20 grid


def grey(values, low, high):
    """Values -> uint8 grey, `low` black and `high` white (a flat layer is all black)."""
    scale = 255.0 / (high - low) if high > low else 0.0
    return np.clip(np.round((values - low) * scale), 0, 255).astype(np.uint8)


def map_images(maps):
    """[C, H, W] -> a PNG per channel, all on one scale: a brighter map answered more strongly."""
    low, high = float(min(maps.min(), 0.0)), float(maps.max())
    return [png(grey(channel, low, high)) for channel in maps]


def dense_image(units):
    """[N] -> one PNG of the whole layer: a row of N cells, or rows of GRID_COLUMNS."""
    columns = min(len(units), GRID_COLUMNS)
    rows = -(-len(units) // columns)
    cells = np.full(rows * columns, float(units.min()), np.float32)
    cells[: len(units)] = units
    return png(grey(cells.reshape(rows, columns), float(min(units.min(), 0.0)),
                    float(units.max())))


def filter_images(weight):
    """First-layer filters [C, 1, K, K] -> a PNG each: mid-grey 0, white positive, black negative."""
    bound = float(np.abs(weight).max()) or 1.0
    return [png(grey(w[0], -bound, bound)) for w in weight]


def load_weights(model, model_dir):
    """Set `model`'s parameters to those saved in `model_dir`/model.pdiparams.

    paddle.jit.load names the saved tensors after the layers that made them when the model was
    trained, e.g. `simple_img_conv_pool_0.w_0`; the number counts the layers of that kind built
    in that process, so it may differ here. A tensor is matched to the rebuilt model's by its
    layer's kind, the rank of that layer among the model's layers of the kind, and its suffix.
    """
    try:
        loaded = paddle.jit.load(paddle_path(os.path.join(model_dir, MODEL_PREFIX)))
        saved_names = loaded._persistable_var_name_dict  # training name -> name in state_dict
        saved_state = loaded.state_dict()
        saved = {name: saved_state[key].numpy() for name, key in saved_names.items()}
    except Exception as err:
        raise ModelError(f"cannot read the weights in {model_dir} to show the layers "
                         f"({type(err).__name__})") from None
    saved = dict(zip(_keys(saved), saved.values()))
    state = model.state_dict()
    mine = dict(zip(_keys({v.name: k for k, v in state.items()}), state))
    if saved.keys() != mine.keys():
        raise ModelError(f"the weights in {model_dir} are not those of this model")
    for key, name in mine.items():
        if list(saved[key].shape) != list(state[name].shape):
            raise ModelError(f"the weights in {model_dir} are not those of this model")
        state[name].set_value(saved[key])


def _keys(names):
    """Tensor names like `linear_4.w_0` -> (kind, rank of the layer among its kind, suffix)."""
    layers = {}
    for name in names:
        prefix = name.rsplit(".", 1)[0]
        kind, number = prefix.rsplit("_", 1)
        layers.setdefault(kind, set()).add(int(number))
    keys = []
    for name in names:
        prefix, suffix = name.rsplit(".", 1)
        kind, number = prefix.rsplit("_", 1)
        keys.append((kind, sorted(layers[kind]).index(int(number)), suffix))
    return keys


class LayerReader:
    """A model folder's network, rebuilt with its weights: image -> every layer's activations.

    >>> layers = LayerReader(model_dir, "cnn")
    >>> layers.check_against(predictor)   # ModelError unless both give the same probabilities
    >>> layers(image)                     # float32 [1, 28, 28] in [-1, 1] -> [{name, shape, images}]
    """

    def __init__(self, model_dir, model_name):
        if model_name not in models.MODELS:
            raise ModelError(f"no layers to show for a model of kind {model_name!r}")
        self.kind = model_name
        self.model = models.build(model_name)
        load_weights(self.model, model_dir)
        self.model.eval()
        self.lock = threading.Lock()  # one forward pass at a time, as for the Predictor

    def activations(self, images):
        """[(name, float32 array [N, ...])] for images [N, 1, 28, 28], from input to answer."""
        with self.lock, paddle.no_grad():
            x = paddle.to_tensor(np.asarray(images, np.float32))
            out = [("img", x)]
            if self.kind == "cnn":
                block1, batch_norm, block2, flatten, fc = self.model
                pool1 = block1(x)
                normed = batch_norm(pool1)
                pool2 = block2(normed)
                out += [("conv1", conv_maps(block1, x)), ("pool1", pool1),
                        ("batch_norm", normed), ("conv2", conv_maps(block2, normed)),
                        ("pool2", pool2), ("prediction", F.softmax(fc(flatten(pool2))))]
            else:  # mlp: Flatten, then (Linear, ReLU) x 2, Linear; softmax: Flatten, Linear
                h = self.model[0](x)
                for i, layer in enumerate(self.model[1:-1:2]):
                    h = F.relu(layer(h))
                    out.append((f"hidden{i + 1}", h))
                out.append(("prediction", F.softmax(self.model[-1](h))))
            return [(name, value.numpy()) for name, value in out]

    def probabilities(self, images):
        return self.activations(images)[-1][1]

    def check_against(self, predictor):
        """ModelError unless this network and `predictor` give the same probabilities."""
        difference = float(np.abs(self.probabilities(PROBE_IMAGES) - predictor(PROBE_IMAGES))
                           .max())
        if not difference <= PROBE_TOLERANCE:
            raise ModelError(f"the rebuilt network differs from the exported model (by "
                             f"{difference:.3g}): its layers cannot be shown")

    def __call__(self, image):
        """One image [1, 28, 28] -> [{name, shape, images}] (conv1 also: `filters`)."""
        layers = []
        for name, value in self.activations(image[None]):
            value = value[0]
            entry = {"name": name, "shape": list(value.shape)}
            entry["images"] = map_images(value) if value.ndim == 3 else [dense_image(value)]
            if name == "conv1":
                entry["filters"] = filter_images(self.model[0].weight.numpy())
            layers.append(entry)
        return layers


def conv_maps(block, x):
    """A SimpleImgConvPool's convolution as the chapter has it: conv + bias, ReLU, no pool."""
    return F.relu(F.conv2d(x, block.weight) + block.bias.reshape([-1, 1, 1]))


def for_model(model_dir, info, predictor):
    """The LayerReader of the model `predictor` runs, checked against it; None, said in one line
    on stderr, when the layers cannot be shown (the page then shows the answer alone)."""
    try:
        reader = LayerReader(model_dir, info.get("model"))
        reader.check_against(predictor)
        return reader
    except ModelError as err:
        print(f"infer.py: warning: {err}; the page shows no layers.", file=sys.stderr)
        return None
