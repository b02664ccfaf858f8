"""An upload's image -> infer.py --json's fields plus `input` (the 28x28 images the model saw), for
`infer.py --serve`: read as `infer.py IMAGE` reads a file, with the upload's own pixel limits."""

import base64
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import numpy as np
from PIL import Image

from recognize_digits.images import sureness
from recognize_digits.images.number import chosen, digit_inputs, reading
from recognize_digits.serve import limits
from recognize_digits.serve.checks import BadRequest
from recognize_digits.serve.limits import PixelBudget


class DigitReader:
    """Image bytes -> infer.py --json's fields plus `input`. Safe to call from many threads.

    Preprocessing (numpy and Pillow, most of the time of a request) runs on limits.DECODERS
    threads of its own, at most limits.PIXELS_AT_ONCE decoded at once: the memory a large image
    takes is reused by the next one on the same thread, where on a request's own thread each of
    many threads kept its own (glibc's malloc keeps an arena per thread: six 24-megapixel PNGs,
    one after the other on six threads, held 1.7 GB). The Paddle Inference predictor is not
    thread-safe: its input and output tensors are one shared buffer each, so two runs
    interleaving their reshape / copy_from_cpu / run / copy_to_cpu would hand one client
    another's answer. Its runs are therefore serialised by a lock; each takes about a
    millisecond for one image, and already uses every core.
    """

    def __init__(self, predictor, mode="mnist", top_k=1, digits="auto", layers=None):
        self.predictor, self.mode, self.top_k, self.digits = predictor, mode, top_k, digits
        self.layers = layers  # a serve/layers.py LayerReader on the same model, or None
        self.lock = threading.Lock()
        self.pixels = PixelBudget()  # decoding takes memory: limits.py
        self.decoders = ThreadPoolExecutor(limits.DECODERS, thread_name_prefix="decode")
        sureness.digit_shapes()  # loaded (or made, a few seconds) now, as the model is, not
        # by the first request

    def __call__(self, body, name, top_k=None, layers=False):
        # The digit, or the number, read as infer.py reads it (ImageError: a bad image), once
        # there is room to decode it.
        pixels = self.decoded_pixels(body, name)
        if not self.pixels.take(pixels):
            raise BadRequest(HTTPStatus.SERVICE_UNAVAILABLE,
                             "the server is busy reading other large images: try again")
        try:
            images, places = self.decoders.submit(self.decode, body, name, pixels).result()
        finally:
            self.pixels.give_back(pixels)
        with self.lock:
            probabilities = self.predictor(images)
        result = reading(name, probabilities, places, top_k or self.top_k, images)
        picked = [i for i, _ in chosen(probabilities, places)]
        result["input"] = [png_base64(images[i, 0]) for i in picked]
        if layers and self.layers:  # ?layers=1: what each layer saw of the (first) digit
            result["layers"] = self.layers(images[picked[0]])
        return result

    def decode(self, body, name, pixels):
        try:
            return digit_inputs(Upload(body, name), self.mode, self.digits, name=name)
        finally:
            if pixels > limits.LARGE_IMAGE:
                limits.release_free_memory()

    def decoded_pixels(self, body, name):
        """The pixels decoding the image will take (from its header); BadRequest 413 if more than
        limits.MAX_UPLOAD_PIXELS. 0 if the header cannot be read (digit_inputs then says why)."""
        size = limits.decoded_size(body, draft=self.mode != "book")
        if size is None:
            return 0
        (width, height), pixels = size
        if pixels > limits.MAX_UPLOAD_PIXELS:
            raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                             f"{name} is too large for the server to read ({width}x{height} "
                             f"pixels, more than {limits.MAX_UPLOAD_PIXELS:,}): shrink it "
                             f"first, or read it on this machine with `python infer.py FILE`")
        return pixels


class Upload(io.BytesIO):
    """An upload's bytes as a file named `name`: Pillow's messages quote its repr, which is then
    the name (as for a file infer.py reads), not `<_io.BytesIO object at 0x...>`."""

    def __init__(self, body, name):
        super().__init__(body)
        self.name = name

    def __repr__(self):
        return repr(self.name)


def png_base64(image):
    """A [28, 28] model input in [-1, 1] -> base64 text of a grey PNG (white digit on black)."""
    return png(np.clip(np.round((image + 1.0) * 127.5), 0, 255).astype(np.uint8))


def png(pixels):
    """uint8 [H, W] -> base64 text of a grey PNG (what the page shows of an image or a layer)."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
