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


class SimpleImgConvPool(nn.Layer):
    """The chapter's `simple_img_conv_pool`: a convolution, ReLU, then a max-pool (2x2, stride 2).

    Its parameters are those of an `nn.Conv2D` (`weight`, `bias`), initialised the same way, but it
    computes in an order that trains faster on a CPU, with the same results: the convolution
    without its bias, the max-pool, then the bias and the ReLU. Adding a channel's bias and
    taking the ReLU both keep the order of numbers, so max(relu(c + b)) = relu(max(c) + b)
    exactly, and the gradients reach the same places; the bias add and the ReLU then run on a
    map four times smaller. While training, the max-pool keeps where each maximum was
    (`return_mask=True`): Paddle 3.3's CPU gradient of the plain max-pool searches every window
    again, and is several times slower than sending each gradient to its kept place. The bias is
    added as [C, 1, 1], not [1, C, 1, 1] as in `nn.Conv2D`: same sum, faster CPU kernels. How
    much faster LeNet-5 trains: docs/speed.md, "What made training faster".
    tests/test_models.py checks the outputs and gradients against `nn.Conv2D`, `nn.ReLU` and
    `nn.MaxPool2D`, ties within a window included (both send the gradient to the first maximum).
    """

    def __init__(self, in_channels, num_filters, filter_size, pool_size=2, pool_stride=2):
        super().__init__()
        # nn.Conv2D's initialisation: weights from N(0, 2 / fan-in) (He), biases 0.
        fan_in = in_channels * filter_size * filter_size
        self.weight = self.create_parameter(
            [num_filters, in_channels, filter_size, filter_size],
            default_initializer=nn.initializer.Normal(0.0, (2.0 / fan_in) ** 0.5))
        self.bias = self.create_parameter([num_filters], is_bias=True)
        self.pool_size, self.pool_stride = pool_size, pool_stride

    def forward(self, x):
        out = F.conv2d(x, self.weight)
        if self.training:
            out, _ = F.max_pool2d(out, self.pool_size, self.pool_stride, return_mask=True)
        else:  # the plain max-pool: what the exported inference model's engine knows best
            out = F.max_pool2d(out, self.pool_size, self.pool_stride)
        return F.relu(out + self.bias.reshape([-1, 1, 1]))


def convolutional_neural_network():
    """LeNet-5 as the chapter builds it: two `simple_img_conv_pool` blocks, batch norm between.

    conv 5x5 x20 + ReLU + max-pool 2/2   [N, 1, 28, 28] -> [N, 20, 12, 12]
    batch norm
    conv 5x5 x50 + ReLU + max-pool 2/2   [N, 20, 12, 12] -> [N, 50, 4, 4]
    fully connected 800 -> 10
    """
    return nn.Sequential(
        SimpleImgConvPool(1, num_filters=20, filter_size=5),
        nn.BatchNorm2D(20),
        SimpleImgConvPool(20, num_filters=50, filter_size=5),
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

