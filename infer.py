"""Name the digit in images with the model train.py exported, run by Paddle Inference.

    python infer.py image/infer_3.png          # Inference result of image/infer_3.png is: 3 ...
    python infer.py my_digits/ photo.jpg "scans/*.png" --top-k 3
    python infer.py my_digits/ --json          # one JSON object per line, for scripts

Each image is first made to look like MNIST (white digit on black, cropped, fitted into 20x20,
centred by mass in 28x28: see recognize_digits/preprocess.py); `--preprocess book` uses the
chapter's plain `load_image` instead, for comparison.
"""

import glob
import json
import os
import sys

from recognize_digits import cli
from recognize_digits.inference import default_save_dir

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm",
                    ".ppm")


def parse_args(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images", nargs="+", metavar="IMAGE",
                        help="image files, folders (every image inside) or glob patterns")
    parser.add_argument("--model-dir", default=default_save_dir("cnn"),
                        help="folder written by train.py (default: %(default)s)")
    parser.add_argument("--top-k", type=cli.positive_int, default=1, metavar="K",
                        help="also show the K most likely digits with their probabilities")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per image: path, label, probability, top_k")
    parser.add_argument("--preprocess", choices=["mnist", "book"], default="mnist",
                        help="mnist: make the image look like an MNIST digit (default); "
                             "book: the chapter's load_image (grey, resize to 28x28)")
    parser.add_argument("--device", choices=["cpu", "gpu"], default=None,
                        help="where to run (default: gpu when Paddle has one, else cpu)")
    parser.add_argument("--batch-size", type=cli.positive_int, default=1000,
                        help="images per run of the predictor (default: 1000)")
    return parser.parse_args(argv)


def expand(patterns):
    """Files, folders and globs -> (image paths in the order given, paths that matched nothing)."""
    paths, missing = [], []
    for pattern in patterns:
        if os.path.isdir(pattern):
            found = sorted(os.path.join(pattern, name) for name in os.listdir(pattern)
                           if name.lower().endswith(IMAGE_EXTENSIONS))
        elif os.path.exists(pattern):
            found = [pattern]
        else:
            found = sorted(p for p in glob.glob(pattern) if os.path.isfile(p))
        if found:
            paths.extend(found)
        else:
            missing.append(pattern)
    return paths, missing


def main(argv=None):
    args = parse_args(argv)
    paths, missing = expand(args.images)
    errors = [f"{pattern}: no such file, or no image in it" for pattern in missing]

    # Imported after the flags and files are checked, so that mistakes are answered at once.
    import numpy as np

    from recognize_digits import device
    from recognize_digits.images import ImageError
    from recognize_digits.preprocess import preprocess
    from recognize_digits.inference import Predictor, read_info

    read_info(args.model_dir)  # no trained model: say so before reading any image
    images, good = [], []
    for path in paths:
        try:
            images.append(preprocess(path, args.preprocess))
            good.append(path)
        except ImageError as err:
            errors.append(str(err))
    for message in errors:
        print(f"infer.py: error: {message}", file=sys.stderr)

    if good:
        predictor = Predictor(args.model_dir, device=device.set_device(
            args.device or device.default_device()))
        probabilities = predictor(np.concatenate(images), batch_size=args.batch_size)
        for path, p in zip(good, probabilities):
            top = np.argsort(-p)[: args.top_k]
            label = int(top[0])
            if args.json:
                print(json.dumps({"path": path, "label": label, "probability": round(float(p[label]), 6),
                                  "top_k": [{"label": int(d), "probability": round(float(p[d]), 6)}
                                            for d in top]}))
            else:
                line = f"Inference result of {path} is: {label} ({p[label]:.1%})"
                if args.top_k > 1:
                    line += "  top %d: %s" % (args.top_k, ", ".join(f"{d} {p[d]:.1%}" for d in top))
                print(line)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(cli.run(main, prog="infer.py"))
