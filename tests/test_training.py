"""Training on real MNIST: accuracy reached, and the exported model answers as the trained one."""

import numpy as np
import paddle

from recognize_digits import data, inference, models, training


def train(model_name, images, labels, epochs=1, seed=90):
    paddle.seed(seed)
    model = models.build(model_name)
    optimizer = training.optimizer_program(model.parameters())
    for epoch in range(epochs):
        order = data.epoch_permutation(len(labels), seed, epoch)
        training.train_epoch(model, optimizer, data.batches(images, labels, 64, order))
    return model


def test_softmax_regression_one_epoch_reaches_90_percent_and_exports_faithfully(
        mnist_dir, mnist_test, tmp_path):
    train_images, train_labels = data.load_mnist("train", mnist_dir)
    test_images, test_labels = mnist_test
    model = train("softmax", train_images, train_labels)

    avg_cost, acc = training.train_test(model, data.batches(test_images, test_labels, 1000))
    assert acc >= 0.90, f"softmax regression after 1 epoch: {acc:.4f}"
    assert 0 < avg_cost < 0.5

    # The exported inference model, run by Paddle Inference, gives the same probabilities.
    inference.save_inference_model(tmp_path, model, {"model": "softmax"})
    expected = training.predict(model, test_images)
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
    model = train("cnn", train_images[:3000], train_labels[:3000])
    inference.save_inference_model(tmp_path, model, {"model": "cnn"})
    assert model.training, "export must leave a model in training mode as it found it"
    expected = training.predict(model, test_images)
    got = inference.Predictor(str(tmp_path))(test_images)
    assert np.abs(got - expected).max() < 1e-5
    np.testing.assert_array_equal(got.argmax(1), expected.argmax(1))


def test_same_seed_same_training(mnist_dir):
    train_images, train_labels = data.load_mnist("train", mnist_dir)
    a = train("mlp", train_images[:1000], train_labels[:1000], seed=3).state_dict()
    b = train("mlp", train_images[:1000], train_labels[:1000], seed=3).state_dict()
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())


def test_train_test_is_exact_over_uneven_batches(mnist_test):
    """Batches of 1000 and of 333 (last one short) give the same cost and accuracy."""
    images, labels = mnist_test
    paddle.seed(1)
    model = models.multilayer_perceptron()
    a = training.train_test(model, data.batches(images, labels, 1000))
    b = training.train_test(model, data.batches(images, labels, 333))
    np.testing.assert_allclose(a, b, rtol=1e-5)
    probabilities = training.predict(model, images)
    assert abs(a[1] - (probabilities.argmax(1) == labels).mean()) < 1e-6
