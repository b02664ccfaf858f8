"""Real handwritten digits photographed with the desk beyond the sheet's edge: read right?

    python bench/real_digits_on_desk.py --model-dir recognize_digits_cnn.inference.model

Each digit of --digits written dark on light paper is widened 4 times, as bench/mnist_photos.py
--desk widens its photos (the desk beyond one side of the sheet or a corner, 10-40% of the sheet
deep, its edge tilted up to 3 degrees, darker than the paper and grained; seeded, so every run
makes the same images), and read as infer.py reads a file. Prints how many are read right, against
the same digits without the desk.
"""

import io
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import recognize_digits  # noqa: E402,F401  (quiets paddle: import it first)
from machine import describe  # noqa: E402
from mnist_photos import on_desk  # noqa: E402
from real_digits import add_model_and_data_arguments, digit_files  # noqa: E402
from recognize_digits import cli  # noqa: E402
from recognize_digits.images import ImageError, open_image  # noqa: E402
from recognize_digits.inference import Predictor  # noqa: E402
from recognize_digits.preprocess import preprocess  # noqa: E402

PHOTOS = 4  # desks per digit


def read(predictor, image):
    """The digit infer.py's default preprocessing and the model name in a grey image, or None if
    it is refused."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    buffer.seek(0)
    try:
        return int(predictor(preprocess(buffer, name="photo")).argmax())
    except ImageError:
        return None


def main(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_and_data_arguments(parser)
    args = parser.parse_args(argv)

    predictor = Predictor(args.model_dir)
    files, labels = digit_files(args.digits)
    rng = np.random.default_rng(0)
    alone = on_a_desk = refused = sheets = 0
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
    print(f"Machine: {describe()}; {sheets} digits dark on light paper in {args.digits}")
    print(f"alone: {alone}/{sheets} right; on a desk: {on_a_desk}/{sheets * PHOTOS} right, "
          f"{refused} refused as blank")


if __name__ == "__main__":
    sys.exit(cli.run(main))
