"""POST /predict?layers=1: what each layer saw, from the very model that answered; and the
server's messages in the page's language (recognize_digits/serve/layers.py, messages.py)."""

import base64
import io
import json
import os
import urllib.error
import urllib.request

import numpy as np
import paddle
import pytest
from PIL import Image

from conftest import ROOT, train_steps
from serving import ServerProcess
from recognize_digits import models, readers, training
from recognize_digits.inference import ModelError, Predictor
from recognize_digits.run import model_files
from recognize_digits.serve.layers import LayerReader

PHOTO = os.path.join(ROOT, "image", "infer_3.png")


@pytest.fixture(scope="module")
def server(model_dir):
    with ServerProcess("--model-dir", model_dir) as process:
        yield process


def ask(server, body, query="", headers=None):
    """(status, JSON answer) of POST /predict?QUERY."""
    request = urllib.request.Request(server.url + "predict?" + query, data=body,
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.load(err)


def size(base64_png):
    image = Image.open(io.BytesIO(base64.b64decode(base64_png)))
    assert image.mode == "L"
    return image.size


def test_layers_of_lenet5_from_input_to_answer(server):
    body = open(PHOTO, "rb").read()
    status, answer = ask(server, body, "layers=1&top_k=3")
    assert status == 200 and answer["label"] == 3
    layers = answer["layers"]
    assert [(layer["name"], layer["shape"]) for layer in layers] == [
        ("img", [1, 28, 28]), ("conv1", [20, 24, 24]), ("pool1", [20, 12, 12]),
        ("batch_norm", [20, 12, 12]), ("conv2", [50, 8, 8]), ("pool2", [50, 4, 4]),
        ("prediction", [10])]
    for layer in layers[:-1]:  # a PNG per map, of the map's size
        channels, height, width = layer["shape"]
        assert len(layer["images"]) == channels
        assert {size(image) for image in layer["images"]} == {(width, height)}
    assert [size(image) for image in layers[-1]["images"]] == [(10, 1)]  # one row of 10
    assert [size(f) for f in layers[1]["filters"]] == [(5, 5)] * 20  # the learned filters
    # The input layer is the 28x28 image shown as `input`; the brightest answer is the 3.
    assert layers[0]["images"] == answer["input"]
    prediction = np.asarray(Image.open(io.BytesIO(base64.b64decode(layers[-1]["images"][0]))))
    assert prediction.argmax() == 3
    # Without ?layers=1 the answer is as before.
    assert "layers" not in ask(server, body, "top_k=3")[1]


def test_the_layers_come_from_the_model_that_answers(model_dir, mnist_test, tmp_path):
    images = mnist_test[0][:200]
    predictor = Predictor(model_dir)
    layers = LayerReader(model_dir, "cnn")
    layers.check_against(predictor)
    assert np.abs(layers.probabilities(images) - predictor(images)).max() < 1e-4

    # Another weight file: change the first convolution's filters, export it as train.py does.
    changed = LayerReader(model_dir, "cnn").model
    for weights in (changed[0].weight, changed[0].bias):  # the 20 filters in reverse order
        weights.set_value(weights.numpy()[::-1].copy())
    folder = tmp_path / "changed"
    model_files.export_model(folder, changed, {"model": "cnn"})
    new_predictor, new_layers = Predictor(str(folder)), LayerReader(str(folder), "cnn")
    new_layers.check_against(new_predictor)
    with pytest.raises(ModelError):
        layers.check_against(new_predictor)
    before, after = dict(layers.activations(images[:1])), dict(new_layers.activations(images[:1]))
    assert np.allclose(before["img"], after["img"])
    assert np.allclose(before["conv1"][0, ::-1], after["conv1"][0])  # the maps follow the filters
    assert not np.allclose(before["conv1"], after["conv1"])


def test_layers_of_a_multilayer_perceptron(mnist_test, tmp_path):
    images, labels = mnist_test
    paddle.seed(1)
    model = models.multilayer_perceptron()
    optimizer = training.optimizer_program(model.parameters())
    train_steps(model, optimizer, readers.batches(images[:3200], labels[:3200], 64))
    model_files.export_model(tmp_path, model, {"model": "mlp"})
    layers = LayerReader(str(tmp_path), "mlp")
    layers.check_against(Predictor(str(tmp_path)))
    shown = layers(images[0])
    assert [(layer["name"], layer["shape"]) for layer in shown] == [
        ("img", [1, 28, 28]), ("hidden1", [200]), ("hidden2", [200]), ("prediction", [10])]
    assert [size(layer["images"][0]) for layer in shown[1:]] == [(20, 10), (20, 10), (10, 1)]


def test_errors_in_the_pages_language_name_no_library(server, tmp_path):
    blank = io.BytesIO()
    Image.new("L", (560, 560), 255).save(blank, format="PNG")
    status, answer = ask(server, blank.getvalue(), "drawing=1&lang=zh")
    assert status == 400 and answer["error"] == "你写的数字里没有找到数字：画板是空白的。"
    status, answer = ask(server, blank.getvalue(), "drawing=1",
                         headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert (status, answer["error"]) == (400, "No digit found in your drawing: it is blank.")
    for language in ("en", "zh-CN"):
        status, answer = ask(server, b"not a picture", "name=x.png",
                             headers={"Accept-Language": language})
        assert status == 400 and "x.png" in answer["error"]
        assert "Pillow" not in answer["error"] and "PIL" not in answer["error"]
    assert "PNG" in answer["error"] and "图像" in answer["error"]
    # A script (no language asked for) still gets infer.py's own line; the server stays up.
    assert "Pillow" in ask(server, b"not a picture", "name=x.png")[1]["error"]
    assert ask(server, open(PHOTO, "rb").read())[0] == 200
