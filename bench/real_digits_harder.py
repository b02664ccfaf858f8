"""Real handwritten digits in harder photos: with the desk beyond the sheet, in dim light.

    python bench/real_digits_harder.py --model-dir recognize_digits_cnn.inference.model

Each digit of --digits written dark on light paper is photographed again, and read as infer.py
reads a file (seeded: every run makes the same images):
- on a desk, 4 times: widened as bench/mnist_photos.py --desk widens its photos (the desk beyond
  one side of the sheet or a corner, 10-40% of the sheet deep, its edge tilted up to 3 degrees,
  darker than the paper and grained);
- in dim light: darkened and made noisy (each pixel's brightness times 1, 0.6, 0.5 or 0.4, plus
  noise of 8 to 12 grey levels), saved as a JPEG.
Prints how many are read right, against the same digits as they are.
"""

import io
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()  # before Paddle loads: MKL's code path on AMD, Paddle's log kept quiet
from machine import describe  # noqa: E402
from mnist_photos import on_desk  # noqa: E402
from real_digits import model_and_digits  # noqa: E402
from recognize_digits.run import cli  # noqa: E402
from recognize_digits.images.loading import ImageError, open_image  # noqa: E402
from recognize_digits.images.preprocess import preprocess  # noqa: E402

PHOTOS = 4  # desks per digit
DIM = ((1.0, 8), (0.6, 8), (0.5, 10), (0.4, 12))  # (brightness, noise in grey levels)


def read(predictor, image, jpeg=False):
    """The digit infer.py's default preprocessing and the model name in a grey image, saved as a
    PNG (or a JPEG), or None if it is refused."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG" if jpeg else "PNG", quality=80)
    buffer.seek(0)
    try:
        return int(predictor(preprocess(buffer, name="photo")).argmax())
    except ImageError:
        return None


def main(argv=None):
    args, predictor, files, labels = model_and_digits(argv, __doc__.split("\n")[0])
    rng = np.random.default_rng(0)
    alone = on_a_desk = refused = sheets = 0
    dim_right, dim_refused = np.zeros(len(DIM), int), np.zeros(len(DIM), int)
    for name, label in zip(files, labels):
        grey = np.asarray(open_image(os.path.join(args.digits, name)))
        paper = np.median(grey) / 255
        if paper < 0.5:  # light ink on dark: no sheet of paper to lay on a desk
            continue
        sheets += 1
        alone += read(predictor, grey) == label
        for _ in range(PHOTOS):
            photo = on_desk(grey / 255, paper, rng)
            answer = read(predictor, (np.clip(photo, 0, 1) * 255).astype(np.uint8))
            on_a_desk += answer == label
            refused += answer is None
        for i, (brightness, noise) in enumerate(DIM):
            dim = grey * brightness + rng.normal(0, noise, grey.shape)
            answer = read(predictor, np.clip(dim, 0, 255).astype(np.uint8), jpeg=True)
            dim_right[i] += answer == label
            dim_refused[i] += answer is None
    print(f"Machine: {describe()}; {sheets} digits dark on light paper in {args.digits}")
    print(f"alone: {alone}/{sheets} right; on a desk: {on_a_desk}/{sheets * PHOTOS} right, "
          f"{refused} refused as blank")
    for (brightness, noise), right, none in zip(DIM, dim_right, dim_refused):
        print(f"in dim light, brightness x{brightness}, noise {noise}: {right}/{sheets} right, "
              f"{none} refused as blank")


if __name__ == "__main__":
    sys.exit(cli.run(main))
