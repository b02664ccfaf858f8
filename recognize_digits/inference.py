"""The inference model: the chapter's `save_inference_model`, and a Predictor that runs it.

The chapter's `save_inference_model` / `load_inference_model` become `paddle.jit.save`, which
writes the model as a program (`model.json`, Paddle 3's new IR) plus its weights
(`model.pdiparams`), and Paddle Inference (`paddle.inference`), the engine deployments use, which
loads and runs them with oneDNN on the CPU or CUDA on a GPU, without the training framework.

train.py exports through run/model_files.py, which writes the model aside, checks it and renames
it into place beside its model_info.json; infer.py checks a model folder there before loading it.
"""

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


class ModelError(RecognizeDigitsError):
    """No usable inference model in the folder given."""


def default_save_dir(model_name):
    """train.py's default --save-dir for a model, e.g. recognize_digits_cnn.inference.model."""
    return f"recognize_digits_{model_name}.inference.model"


def save_inference_model(folder, model):
    """The chapter's save_inference_model: `model`, followed by a softmax, as a program Paddle
    Inference runs, `folder`/model.json + model.pdiparams: img [N, 1, 28, 28] -> [N, 10]."""
    was_training = model.training
    model.eval()  # batch norm with its running statistics, the plain max-pool
    spec = paddle.static.InputSpec([None, 1, 28, 28], "float32", INPUT_NAME)
    try:
        paddle.jit.save(with_softmax(model), os.path.join(folder, MODEL_PREFIX), input_spec=[spec])
    finally:
        if was_training:
            model.train()


class Predictor:
    """A Paddle Inference predictor for a model folder: probabilities from images.

    >>> predictor = Predictor("recognize_digits_cnn.inference.model")
    >>> probabilities = predictor(images)  # float32 [N, 1, 28, 28] in [-1, 1] -> [N, 10]
    """

    def __init__(self, model_dir, device="cpu", threads=None):
        prefix = os.path.join(model_dir, MODEL_PREFIX)
        config = paddle.inference.Config(prefix + ".json", prefix + ".pdiparams")
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
