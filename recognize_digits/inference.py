"""The inference model: export it after training, load and run it with Paddle Inference.

The chapter's `save_inference_model` / `load_inference_model` become `paddle.jit.save`, which
writes the model as a program (`model.json`, Paddle 3's new IR) plus its weights
(`model.pdiparams`), and Paddle Inference (`paddle.inference`), the engine deployments use, which
loads and runs them with oneDNN on the CPU or CUDA on a GPU, without the training framework.

A model folder (train.py's --save-dir) holds:
    model.json, model.pdiparams   the inference model: img [N, 1, 28, 28] -> probabilities [N, 10]
    model_info.json               what infer.py needs to know: model name, epoch, accuracy, scaling
"""

import json
import os
import shutil
import tempfile

import numpy as np
import paddle

from recognize_digits import RecognizeDigitsError
from recognize_digits.files import write_json
from recognize_digits.models import with_softmax

MODEL_PREFIX = "model"
INFO_FILE = "model_info.json"
INPUT_NAME = "img"


class ModelError(RecognizeDigitsError):
    """No usable inference model in the folder given."""


def default_save_dir(model_name):
    """train.py's default --save-dir for a model, e.g. recognize_digits_cnn.inference.model."""
    return f"recognize_digits_{model_name}.inference.model"


def save_inference_model(save_dir, model, info):
    """Export `model` (followed by a softmax) to `save_dir` with `info` beside it, atomically.

    paddle.jit.save writes into a temporary folder inside `save_dir`; the two files are then
    renamed into place, the weights first. The program (model.json) of a given model type is the
    same at every epoch, so even a crash between the two renames leaves a model that loads and
    runs.
    """
    os.makedirs(save_dir, exist_ok=True)
    was_training = model.training
    model.eval()
    spec = paddle.static.InputSpec([None, 1, 28, 28], "float32", INPUT_NAME)
    tmp_dir = tempfile.mkdtemp(dir=save_dir, prefix=".export-")
    try:
        paddle.jit.save(with_softmax(model), os.path.join(tmp_dir, MODEL_PREFIX), input_spec=[spec])
        for suffix in (".pdiparams", ".json"):
            name = MODEL_PREFIX + suffix
            os.replace(os.path.join(tmp_dir, name), os.path.join(save_dir, name))
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        if was_training:
            model.train()
    write_json(os.path.join(save_dir, INFO_FILE), info)


def read_info(model_dir):
    """The model_info.json of a model folder, checked to exist; ModelError if not."""
    if not os.path.isdir(model_dir):
        raise ModelError(
            f"no trained model in {model_dir}: run `python train.py` first "
            f"(or pass --model-dir FOLDER written by train.py)."
        )
    missing = [name for name in (f"{MODEL_PREFIX}.json", f"{MODEL_PREFIX}.pdiparams", INFO_FILE)
               if not os.path.isfile(os.path.join(model_dir, name))]
    if missing:
        raise ModelError(
            f"{model_dir} holds no complete trained model (missing {', '.join(missing)}): "
            f"run `python train.py` first, or pass --model-dir FOLDER written by train.py."
        )
    try:
        with open(os.path.join(model_dir, INFO_FILE)) as f:
            return json.load(f)
    except (OSError, ValueError) as err:
        raise ModelError(f"{os.path.join(model_dir, INFO_FILE)} is unreadable ({err}).") from None


class Predictor:
    """A Paddle Inference predictor for a model folder: probabilities from images.

    >>> predictor = Predictor("recognize_digits_cnn.inference.model")
    >>> probabilities = predictor(images)  # float32 [N, 1, 28, 28] in [-1, 1] -> [N, 10]
    """

    def __init__(self, model_dir, device="cpu", threads=None):
        self.info = read_info(model_dir)
        prefix = os.path.join(model_dir, MODEL_PREFIX)
        config = paddle.inference.Config(prefix + ".json", prefix + ".pdiparams")
        config.disable_glog_info()  # its optimisation passes log dozens of lines otherwise
        if device == "gpu":
            config.enable_use_gpu(256, 0)
        else:
            config.disable_gpu()
            config.enable_mkldnn()  # oneDNN: several times faster than the plain CPU kernels
            config.set_cpu_math_library_num_threads(threads or os.cpu_count() or 1)
        try:
            self.predictor = paddle.inference.create_predictor(config)
        except Exception as err:  # Paddle raises its own C++ error types for damaged files
            first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ModelError(
                f"could not load the model in {model_dir} ({first_line}); "
                f"train it again with `python train.py`."
            ) from None
        names = self.predictor.get_input_names()
        if names != [INPUT_NAME]:
            raise ModelError(f"{model_dir} holds a model that is not a digit model from train.py "
                             f"(its input is {', '.join(names)}, expected {INPUT_NAME} "
                             f"[N, 1, 28, 28]); pass the --model-dir of a train.py run.")
        self.input = self.predictor.get_input_handle(INPUT_NAME)
        self.output = self.predictor.get_output_handle(self.predictor.get_output_names()[0])
        try:  # one blank image: a model of the wrong shape fails here, not on the user's images
            shape = self(np.full((1, 1, 28, 28), -1, np.float32)).shape
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
        return np.concatenate(out) if out else np.zeros((0, 10), np.float32)
