"""Training on real MNIST: accuracy reached, and the exported model answers as the trained one."""

import numpy as np
import paddle

from conftest import train_steps
from recognize_digits import data, inference, models, readers, training
from recognize_digits.run import model_files


def train(model_name, images, labels, epochs=1, seed=90, ema_decay=0.0):
    """Train as train.py does; returns the model and its ExponentialMovingAverage."""
    paddle.seed(seed)
    model = models.build(model_name)
    optimizer = training.optimizer_program(model.parameters())
    ema = training.ExponentialMovingAverage(model, ema_decay)
    for epoch in range(epochs):
        order = readers.epoch_permutation(len(labels), seed, epoch)
        train_steps(model, optimizer, readers.batches(images, labels, 64, order), ema)
    return model, ema


def test_softmax_regression_one_epoch_reaches_90_percent_and_exports_faithfully(
        mnist_dir, mnist_test, tmp_path):
    train_images, train_labels = data.load_mnist("train", mnist_dir)
    test_images, test_labels = mnist_test
    model, ema = train("softmax", train_images, train_labels, ema_decay=0.999)
    test_batches = list(readers.batches(test_images, test_labels, 1000))

    trained_cost, trained_acc = training.train_test(model, test_batches)
    with ema.apply():
        avg_cost, acc = training.train_test(model, test_batches)
        assert acc >= 0.90, f"softmax regression after 1 epoch: {acc:.4f}"
        assert 0 < avg_cost < 0.5
        # What --ema-decay is for: the averaged weights test better than the last ones.
        assert avg_cost < trained_cost and acc > trained_acc

        # The exported inference model, run by Paddle Inference, gives the same probabilities.
        model_files.export_model(tmp_path, model, {"model": "softmax"})
        expected = training.probabilities(model, test_images)
    got = inference.Predictor(str(tmp_path))(test_images)
    assert got.shape == (10_000, 10)
    assert np.abs(got - expected).max() < 1e-5
    np.testing.assert_array_equal(got.argmax(1), expected.argmax(1))
    assert (got.argmax(1) == test_labels).mean() == acc


def test_lenet_export_keeps_batch_norm_statistics(mnist_dir, mnist_test, tmp_path):
    """LeNet-5 (with batch norm) trained briefly: the exported model matches it in eval mode,
    on all 10,000 test images."""
    train_images, train_labels = data.load_mnist("train", mnist_dir)
    test_images, _ = mnist_test
    model, _ = train("cnn", train_images[:3000], train_labels[:3000])
    model_files.export_model(tmp_path, model, {"model": "cnn"})
    assert model.training, "export must leave a model in training mode as it found it"
    expected = training.probabilities(model, test_images)
    got = inference.Predictor(str(tmp_path))(test_images)
    assert np.abs(got - expected).max() < 1e-5
    np.testing.assert_array_equal(got.argmax(1), expected.argmax(1))


def test_same_seed_same_training(mnist_dir):
    train_images, train_labels = data.load_mnist("train", mnist_dir)
    a = train("mlp", train_images[:1000], train_labels[:1000], seed=3)[0].state_dict()
    b = train("mlp", train_images[:1000], train_labels[:1000], seed=3)[0].state_dict()
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())


def test_train_test_is_exact_over_uneven_batches(mnist_test):
    """Batches of 1000 and of 333 (last one short) give the same cost and accuracy."""
    images, labels = mnist_test
    paddle.seed(1)
    model = models.multilayer_perceptron()
    a = training.train_test(model, readers.batches(images, labels, 1000))
    b = training.train_test(model, readers.batches(images, labels, 333))
    np.testing.assert_allclose(a, b, rtol=1e-5)
    probabilities = training.probabilities(model, images)
    assert abs(a[1] - (probabilities.argmax(1) == labels).mean()) < 1e-6


def test_moving_average_follows_the_weights_and_apply_puts_them_back():
    """Each update moves the average 1 - d of the way to the weights (batch norm's statistics
    included); apply() swaps it in for the block only, even if the block fails."""
    paddle.seed(1)
    model = models.convolutional_neural_network()
    ema = training.ExponentialMovingAverage(model, decay=0.5)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with paddle.no_grad():
        for value in model.state_dict().values():
            value.set_value(value + 1)
    ema.update()  # d = min(0.5, 2 / 11): the warm-up keeps early averages close to the weights
    expected = {k: v + 1 - 2 / 11 for k, v in before.items()}
    assert sorted(ema.average) == sorted(before)  # weights, biases, batch norm's mean and variance
    try:
        with ema.apply():
            for name, value in model.state_dict().items():
                np.testing.assert_allclose(value.numpy(), expected[name], rtol=1e-6)
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[name] + 1)


def test_moving_average_with_decay_0_changes_nothing():
    """--ema-decay 0: the chapter's way, the weights as trained are tested and exported."""
    model = models.softmax_regression()
    ema = training.ExponentialMovingAverage(model, decay=0)
    with paddle.no_grad():
        model[1].weight.set_value(model[1].weight + 1)
    trained = model[1].weight.numpy().copy()
    ema.update()
    with ema.apply():
        np.testing.assert_array_equal(model[1].weight.numpy(), trained)
