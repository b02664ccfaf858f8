"""What infer.py answers for an image, for the benchmarks that read many (not_sure.py,
mnist_figures.py, hard_shapes.py). Import it after prepare_paddle()."""

import io

from PIL import Image

from recognize_digits.images.loading import ImageError
from recognize_digits.images.number import digit_inputs, reading


def answer(source, predictor, name="image.png"):
    """infer.py's answer for `source` (a path, or an image file's bytes): (the digits read, as a
    string; whether the reader is sure), or (None, None) if it refuses the image."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        inputs, places = digit_inputs(source, name=name)
    except ImageError:
        return None, None
    result = reading(name, predictor(inputs), places, inputs=inputs)
    return result.get("number") or str(result["label"]), result["sure"]


def png_bytes(image):
    """A Pillow image, or a uint8 array, as the bytes of a PNG file."""
    if not isinstance(image, Image.Image):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
