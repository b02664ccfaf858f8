"""The chapter's three models: parameter counts, output shapes, and that each faster way of
computing them (models.SimpleImgConvPool, Adam in one call) gives the plain layers' results."""

import numpy as np
import paddle
import pytest

from recognize_digits import models, training


@pytest.mark.parametrize("name, builder, parameters", [
    ("softmax", models.softmax_regression, 7_850),      # 784*10 + 10
    ("mlp", models.multilayer_perceptron, 199_210),     # 784*200+200 + 200*200+200 + 200*10+10
    ("cnn", models.convolutional_neural_network, 33_620),
])
def test_parameter_count_and_output_shape(name, builder, parameters):
    model = builder()
    assert models.count_parameters(model) == parameters
    assert models.MODELS[name] is builder
    out = model(paddle.zeros([5, 1, 28, 28]))
    assert out.shape == [5, 10]


def test_lenet_layers_as_in_the_chapter():
    """conv 5x5 x20, pool, batch norm, conv 5x5 x50, pool, fully connected 800 -> 10."""
    model = models.convolutional_neural_network()
    convs = [l for l in model.sublayers() if isinstance(l, models.SimpleImgConvPool)]
    assert [tuple(c.weight.shape) for c in convs] == [(20, 1, 5, 5), (50, 20, 5, 5)]
    assert any(isinstance(l, paddle.nn.BatchNorm2D) for l in model.sublayers())
    # Batch norm's running mean and variance are state, not trained parameters.
    total = sum(int(p.numel()) for p in model.parameters())
    assert total == 33_620 + 2 * 20


def test_with_softmax_outputs_probabilities():
    paddle.seed(0)
    model = models.with_softmax(models.multilayer_perceptron())
    probabilities = model(paddle.uniform([4, 1, 28, 28], min=-1, max=1)).numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    assert (probabilities >= 0).all()


def test_same_seed_same_weights():
    paddle.seed(7)
    a = models.convolutional_neural_network().state_dict()
    paddle.seed(7)
    b = models.convolutional_neural_network().state_dict()
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())


def plain_conv_pool(block):
    """The chapter's conv + ReLU + max-pool from plain paddle.nn layers, with `block`'s weights."""
    conv = paddle.nn.Conv2D(block.weight.shape[1], block.weight.shape[0], kernel_size=5)
    conv.set_state_dict(block.state_dict())
    pool = paddle.nn.MaxPool2D(kernel_size=2, stride=2)
    return paddle.nn.Sequential(conv, paddle.nn.ReLU(), pool)


def outputs_and_gradients(layer, x, weights):
    """The layer's output, and the gradients of sum(output * weights) for its weight, its bias
    and its input."""
    x = x.detach()
    x.stop_gradient = False
    out = layer(x)
    (out * weights).sum().backward()
    params = dict(layer.named_parameters())
    grads = [params[name].grad.numpy() for name in sorted(params)]
    return [out.numpy(), *grads, x.grad.numpy()]


@pytest.mark.parametrize("in_channels, out_channels, size", [(1, 20, 28), (20, 50, 12)])
@pytest.mark.parametrize("training", [True, False])
def test_simple_img_conv_pool_computes_what_the_plain_layers_do(in_channels, out_channels, size,
                                                                 training):
    """models.SimpleImgConvPool pools before adding the bias and taking the ReLU: same output,
    same gradients as nn.Conv2D + nn.ReLU + nn.MaxPool2D, up to float rounding."""
    paddle.seed(3)
    ours = models.SimpleImgConvPool(in_channels, out_channels, filter_size=5)
    with paddle.no_grad():
        ours.bias.set_value(paddle.uniform([out_channels], min=-1, max=1))  # bias init is 0
    theirs = plain_conv_pool(ours)
    for layer in (ours, theirs):
        layer.train() if training else layer.eval()
    x = paddle.uniform([8, in_channels, size, size], min=-1, max=1)
    weights = paddle.uniform([8, out_channels, (size - 4) // 2, (size - 4) // 2], min=-1, max=1)
    got, expected = (outputs_and_gradients(layer, x, weights) for layer in (ours, theirs))
    np.testing.assert_array_equal(got[0], expected[0])  # max, bias, ReLU: exact in any order
    for a, b in zip(got[1:], expected[1:]):  # sums of hundreds of terms, added in another order
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * np.abs(b).max())


def test_simple_img_conv_pool_sends_the_gradient_of_ties_to_the_first_maximum():
    """On whole numbers every sum is exact, so windows often hold equal maxima: the gradient
    goes to the same one (the first) as nn.MaxPool2D's, and everything matches exactly."""
    rng = np.random.default_rng(0)
    ours = models.SimpleImgConvPool(3, 4, filter_size=5)
    with paddle.no_grad():
        ours.weight.set_value(rng.integers(-1, 2, (4, 3, 5, 5)).astype("float32"))
        ours.bias.set_value(rng.integers(-3, 4, 4).astype("float32"))
    theirs = plain_conv_pool(ours)
    x = paddle.to_tensor(rng.integers(0, 2, (6, 3, 12, 12)).astype("float32"))
    weights = paddle.to_tensor(rng.integers(-2, 3, (6, 4, 4, 4)).astype("float32"))
    conv = paddle.nn.functional.conv2d(x, ours.weight).numpy()
    windows = conv.reshape(6, 4, 4, 2, 4, 2).transpose(0, 1, 2, 4, 3, 5).reshape(6, 4, 4, 4, 4)
    ties = (windows == windows.max(axis=-1, keepdims=True)).sum(axis=-1) > 1
    assert ties.mean() > 0.1  # the test is about ties: make sure there are many
    got, expected = (outputs_and_gradients(layer, x, weights) for layer in (ours, theirs))
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["softmax", "mlp", "cnn"])
def test_optimizer_program_updates_as_plain_adam_does(name):
    """training.optimizer_program updates every parameter in one merged_adam_ call: the same
    weights as paddle.optimizer.Adam's one adam_ call per parameter, up to float rounding."""
    rng = np.random.default_rng(0)
    batches = [(paddle.to_tensor(rng.uniform(-1, 1, (16, 1, 28, 28)).astype("float32")),
                paddle.to_tensor(rng.integers(0, 10, 16))) for _ in range(20)]
    weights = []
    for make_optimizer in (training.optimizer_program,
                           lambda p: paddle.optimizer.Adam(learning_rate=0.001, parameters=p)):
        paddle.seed(5)
        model = models.build(name)
        optimizer = make_optimizer(model.parameters())
        for images, labels in batches:
            cost, _ = training.train_program(model, images, labels, with_accuracy=False)
            cost.backward()
            optimizer.step()
            optimizer.clear_grad()
        weights.append([p.numpy() for p in model.parameters()])
    for ours, plain in zip(*weights):
        np.testing.assert_allclose(ours, plain, rtol=1e-5, atol=1e-6)
