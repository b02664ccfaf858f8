"""The chapter's three models: parameter counts and output shapes."""

import numpy as np
import paddle
import pytest

from recognize_digits import models


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
    convs = [l for l in model.sublayers() if isinstance(l, paddle.nn.Conv2D)]
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


@pytest.mark.parametrize("in_channels, out_channels, size", [(1, 20, 28), (20, 50, 12)])
def test_our_conv2d_computes_what_nn_conv2d_does(in_channels, out_channels, size):
    """models.FastBiasConv2D only adds its bias in a faster shape: same output, same gradients."""
    paddle.seed(3)
    ours = models.FastBiasConv2D(in_channels, out_channels, kernel_size=5)
    theirs = paddle.nn.Conv2D(in_channels, out_channels, kernel_size=5)
    theirs.set_state_dict(ours.state_dict())
    with paddle.no_grad():
        ours.bias.set_value(paddle.uniform([out_channels], min=-1, max=1))  # bias init is 0
        theirs.bias.set_value(ours.bias)
    x = paddle.uniform([8, in_channels, size, size], min=-1, max=1)
    outputs = [layer(x) for layer in (ours, theirs)]
    np.testing.assert_allclose(outputs[0].numpy(), outputs[1].numpy(), rtol=1e-6, atol=1e-6)
    for layer, out in zip((ours, theirs), outputs):
        (out * out).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-5)
