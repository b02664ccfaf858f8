"""The inference model: the chapter's `save_inference_model`, and a Predictor that runs it.

The chapter's `save_inference_model` / `load_inference_model` become `paddle.jit.save`, which
writes the model as a program (`model.json`, Paddle 3's new IR) plus its weights
(`model.pdiparams`), and Paddle Inference (`paddle.inference`), the engine deployments use, which
loads and runs them with oneDNN on the CPU or CUDA on a GPU, without the training framework.

train.py exports through run/model_files.py, which writes the model aside, checks it and renames
it into place beside its model_info.json; infer.py checks a model folder there before loading it.
"""

import json
import os

import numpy as np
import paddle

from recognize_digits import RecognizeDigitsError, first_line
from recognize_digits.models import with_softmax

MODEL_PREFIX = "model"  # model.json + model.pdiparams
INPUT_NAME = "img"
# What the model takes, as model_info.json records it and infer.py checks it: the scaling the
# preprocessing (images/preprocess.py) and the chapter's load_image produce.
MODEL_INPUT = {"name": INPUT_NAME, "shape": [None, 1, 28, 28], "dtype": "float32",
               "scaling": "x / 255 * 2 - 1: white digit on black in [-1, 1], as MNIST"}
# Probabilities are in [0, 1] and each image's ten add up to 1, to within float rounding.
PROBABILITY_TOLERANCE = 1e-3
MAX_PROGRAM_BYTES = 64 * 1024 * 1024  # model.json of LeNet-5 is 14 kB


class ModelError(RecognizeDigitsError):
    """No usable inference model in the folder given."""


def default_save_dir(model_name):
    """train.py's default --save-dir for a model, e.g. recognize_digits_cnn.inference.model."""
    return f"recognize_digits_{model_name}.inference.model"


def paddle_path(path):
    """`path` as Paddle's C++ reads it: the file name's own bytes as UTF-8 (Python may hold them
    otherwise, under an ASCII file-system encoding). ValueError if they are not UTF-8."""
    try:
        return os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path!r} is not valid UTF-8") from None


def save_inference_model(folder, model):
    """The chapter's save_inference_model: `model`, followed by a softmax, as a program Paddle
    Inference runs, `folder`/model.json + model.pdiparams: img [N, 1, 28, 28] -> [N, 10]."""
    was_training = model.training
    model.eval()  # batch norm with its running statistics, the plain max-pool
    spec = paddle.static.InputSpec([None, 1, 28, 28], "float32", INPUT_NAME)
    try:
        paddle.jit.save(with_softmax(model), paddle_path(os.path.join(folder, MODEL_PREFIX)),
                        input_spec=[spec])
    finally:
        if was_training:
            model.train()


class Predictor:
    """A Paddle Inference predictor for a model folder: probabilities from images.

    >>> predictor = Predictor("recognize_digits_cnn.inference.model")
    >>> probabilities = predictor(images)  # float32 [N, 1, 28, 28] in [-1, 1] -> [N, 10]
    """

    def __init__(self, model_dir, device="cpu", threads=None):
        self.model_dir = model_dir
        prefix = os.path.join(model_dir, MODEL_PREFIX)
        declared = declared_input_shape(prefix + ".json")
        if declared not in (None, [-1, 1, 28, 28]):
            raise ModelError(f"{model_dir} holds a model that is not a digit model from train.py "
                             f"(its input is declared {declared}, expected [N, 1, 28, 28]); pass "
                             f"the --model-dir of a train.py run.")
        try:
            program, params = paddle_path(prefix + ".json"), paddle_path(prefix + ".pdiparams")
        except ValueError:
            raise ModelError(f"cannot load the model in {model_dir!r}: Paddle Inference cannot "
                             f"open a path that is not valid UTF-8; rename the folder.") from None
        try:
            config = paddle.inference.Config(program, params)
        except Exception as err:  # a missing or unreadable file
            raise ModelError(f"could not load the model in {model_dir} ({first_line(err)}); "
                             f"train it again with `python train.py`.") from None
        config.disable_glog_info()  # its optimisation passes log dozens of lines otherwise
        if device == "gpu":
            config.enable_use_gpu(256, 0)
        else:
            config.disable_gpu()
            # oneDNN: several times faster than the plain CPU kernels. Paddle's wheels for Apple
            # silicon have none (asked for anyway, Paddle would log an error line).
            if paddle.base.core.is_compiled_with_mkldnn():
                config.enable_mkldnn()
            config.set_cpu_math_library_num_threads(threads or os.cpu_count() or 1)
        try:
            self.predictor = paddle.inference.create_predictor(config)
        except Exception as err:  # Paddle raises its own C++ error types for damaged files
            raise ModelError(f"could not load the model in {model_dir} ({first_line(err)}); "
                             f"train it again with `python train.py`.") from None
        names = self.predictor.get_input_names()
        if names != [INPUT_NAME]:
            raise ModelError(f"{model_dir} holds a model that is not a digit model from train.py "
                             f"(its input is {', '.join(names)}, expected {INPUT_NAME} "
                             f"[N, 1, 28, 28]); pass the --model-dir of a train.py run.")
        self.input = self.predictor.get_input_handle(INPUT_NAME)
        self.output = self.predictor.get_output_handle(self.predictor.get_output_names()[0])
        try:  # one blank image: a model of the wrong shape fails here, not on the user's images
            shape = self(np.full((1, 1, 28, 28), -1, np.float32)).shape
        except ModelError:
            raise
        except Exception:
            shape = None
        if shape != (1, 10):
            raise ModelError(f"{model_dir} holds a model that is not a digit model from train.py "
                             f"(its input is not [N, 1, 28, 28] or its output not [N, 10]).")

    def __call__(self, images, batch_size=1000):
        """Probabilities [N, 10] for float32 images [N, 1, 28, 28] scaled to [-1, 1]."""
        images = np.ascontiguousarray(images, dtype=np.float32)
        out = []
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            self.input.reshape(batch.shape)
            self.input.copy_from_cpu(batch)
            self.predictor.run()
            out.append(self.output.copy_to_cpu())
        probabilities = np.concatenate(out) if out else np.zeros((0, 10), np.float32)
        problem = probabilities_problem(probabilities)
        if problem:
            raise ModelError(f"the model in {self.model_dir} gives {problem}, not probabilities: it "
                             f"is not a digit model from train.py, or its weights are damaged; "
                             f"train it again with `python train.py`.")
        return probabilities


def probabilities_problem(probabilities):
    """None if every row of `probabilities` [N, 10] is a probability distribution, else what
    is wrong, for a message."""
    if not probabilities.size:
        return None
    if not np.isfinite(probabilities).all():
        return "NaN or infinite outputs"
    low, high = float(probabilities.min()), float(probabilities.max())
    if low < -PROBABILITY_TOLERANCE or high > 1 + PROBABILITY_TOLERANCE:
        return f"outputs from {low:.4g} to {high:.4g}"
    total = probabilities.sum(axis=-1)
    if np.abs(total - 1).max() > PROBABILITY_TOLERANCE:
        return f"outputs that add up to {float(total[np.abs(total - 1).argmax()]):.4g}"
    return None


def declared_input_shape(program_path):
    """The shape the program at `program_path` (Paddle 3's JSON) declares for its input, or None
    where that cannot be told (an unreadable file is left for Paddle to report)."""
    try:
        if os.path.getsize(program_path) > MAX_PROGRAM_BYTES:
            return None
        with open(program_path, "rb") as f:
            program = json.load(f)
    except (OSError, ValueError, RecursionError):
        return None
    nodes = [program]
    while nodes:  # the program's `data` operation named INPUT_NAME, and its `shape` attribute
        node = nodes.pop()
        if isinstance(node, list):
            nodes.extend(node)
        elif isinstance(node, dict):
            if str(node.get("#", "")).endswith(".data") and isinstance(node.get("A"), list):
                attributes = {a.get("N"): (a.get("AT") or {}).get("D") for a in node["A"]
                              if isinstance(a, dict) and isinstance(a.get("AT"), dict)}
                if attributes.get("name") == INPUT_NAME:
                    return attributes.get("shape")
            nodes.extend(node.values())
    return None
