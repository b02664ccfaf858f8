"""The chapter's three models, built with `paddle.nn` layers.

Each builder returns a `paddle.nn.Layer` that takes a batch of images, float32 [N, 1, 28, 28]
scaled to [-1, 1], and returns the scores of the ten digits, [N, 10].

The chapter ends every model with `act='softmax'` and feeds probabilities to `cross_entropy`.
Here the models return the scores before the softmax (logits) and the loss applies it
(`F.cross_entropy` fuses softmax and log): the same mathematics, but it cannot take the log of a
probability that has underflowed to 0. `with_softmax` adds the softmax back for the exported
inference model, which outputs the probabilities, as the chapter's does.
"""

import paddle.nn.functional as F
from paddle import nn


def softmax_regression():
    """Softmax regression: one fully connected layer from the 784 pixels to the 10 digits.

    Its weights start at zero, as in the classic softmax-regression tutorials: random initial
    weights only serve to make hidden units differ, and this model has none. Random ones would
    give every rarely-inked pixel a random say that 5 epochs do not wholly remove (held-out
    accuracy with the default moving average, `python bench/validation.py --models softmax`:
    92.42% from zero, 92.36% from Paddle's default Xavier initialisation; seeds 1-3).
    """
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(28 * 28, 10, weight_attr=nn.initializer.Constant(0.0)),
    )


def multilayer_perceptron():
    """Two hidden fully connected layers of 200 with ReLU, then 10 outputs."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(28 * 28, 200),
        nn.ReLU(),
        nn.Linear(200, 200),
        nn.ReLU(),
        nn.Linear(200, 10),
    )


class FastBiasConv2D(nn.Conv2D):
    """`nn.Conv2D` (stride and padding are all LeNet-5 uses), adding its bias faster on CPU.

    `nn.Conv2D` adds its bias as a [1, C, 1, 1] tensor. Paddle 3.3's CPU kernels for that
    broadcast and for its gradient are slow: about a third of a LeNet-5 training step
    (`python bench/profile_step.py --first-built`). Added as [C, 1, 1], the same sum takes a tenth
    of the time, and a step runs about 1.3x faster (`python bench/speed.py` times both). Same
    weights, same results up to float rounding.
    """

    def forward(self, x):
        out = F.conv2d(x, self.weight, stride=self._stride, padding=self._padding)
        return out + self.bias.reshape([-1, 1, 1])


def convolutional_neural_network():
    """LeNet-5 as the chapter builds it (two `simple_img_conv_pool` blocks, batch norm between).

    conv 5x5 x20 + ReLU + max-pool 2/2   [N, 1, 28, 28] -> [N, 20, 12, 12]
    batch norm
    conv 5x5 x50 + ReLU + max-pool 2/2   [N, 20, 12, 12] -> [N, 50, 4, 4]
    fully connected 800 -> 10
    """
    return nn.Sequential(
        FastBiasConv2D(1, 20, kernel_size=5),
        nn.ReLU(),
        nn.MaxPool2D(kernel_size=2, stride=2),
        nn.BatchNorm2D(20),
        FastBiasConv2D(20, 50, kernel_size=5),
        nn.ReLU(),
        nn.MaxPool2D(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(50 * 4 * 4, 10),
    )


# The --model names of train.py and infer.py, mapped to the chapter's builders.
MODELS = {
    "softmax": softmax_regression,
    "mlp": multilayer_perceptron,
    "cnn": convolutional_neural_network,
}
CHAPTER_NAMES = {name: builder.__name__ for name, builder in MODELS.items()}


def build(name):
    """Build the model named `name` ('softmax', 'mlp' or 'cnn')."""
    return MODELS[name]()


def with_softmax(model):
    """The model followed by a softmax: outputs probabilities, as the exported model must."""
    return nn.Sequential(model, nn.Softmax(axis=-1))


def count_parameters(model):
    """Number of trainable parameters (batch norm's running mean and variance are not trained)."""
    return sum(int(p.numel()) for p in model.parameters() if not p.stop_gradient)

