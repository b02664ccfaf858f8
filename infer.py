"""Name the digit in images with the model train.py exported, run by Paddle Inference.

    python infer.py image/infer_3.png          # Inference result of image/infer_3.png is: 3 ...
    python infer.py 42.png                     # a number: ... is: 42 (4: 99.1%, 2: 97.3%)
    python infer.py my_digits/ photo.jpg "scans/*.png" --top-k 3
    python infer.py my_digits/ --json          # one JSON object per line, for scripts
    python infer.py --serve                    # draw a digit: open http://127.0.0.1:8000/

Each image is first made to look like MNIST (white digit on black, cropped, fitted into 20x20,
centred by mass in 28x28: see recognize_digits/images/preprocess.py); `--preprocess book` uses the
chapter's plain `load_image` instead, for comparison. An image may hold a number: its ink is
split into digits, left to right, each read the same way (recognize_digits/images/number.py);
`--digits one` reads the whole image as one digit. `--serve` runs a page on which to draw a
digit or drop a photo, read the same way (see recognize_digits/serve/server.py).
"""

import glob
import json
import os
import sys

from recognize_digits.run.environment import prepare_paddle

prepare_paddle("infer.py")  # first, before Paddle loads: its log and warnings kept from the user
import numpy as np  # noqa: E402

from recognize_digits.images import number  # noqa: E402
from recognize_digits.images.loading import ImageError  # noqa: E402
from recognize_digits.inference import Predictor, default_save_dir  # noqa: E402
from recognize_digits.run import cli, device  # noqa: E402
from recognize_digits.run.files import shown  # noqa: E402
from recognize_digits.run.model_files import read_info  # noqa: E402

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm",
                    ".ppm")


def parse_args(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images", nargs="*", metavar="IMAGE",
                        help="image files, folders (every image inside) or glob patterns")
    parser.add_argument("--model-dir", default=default_save_dir("cnn"),
                        help="folder written by train.py (default: %(default)s)")
    cli.add_device_argument(parser, "run")
    parser.add_argument("--top-k", type=cli.top_k, default=1, metavar="K",
                        help="also show the K most likely digits with their probabilities (1-10)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per image: path, label, probability, top_k, "
                             "sure (and for a number: number, digits)")
    parser.add_argument("--preprocess", choices=["mnist", "book"], default="mnist",
                        help="mnist: make the image look like an MNIST digit (default); "
                             "book: the chapter's load_image (grey, resize to 28x28)")
    parser.add_argument("--digits", choices=number.DIGITS, default="auto",
                        help="auto: read the number written in each image, one digit or more "
                             "(default); one: read each image as a single digit (as "
                             "--preprocess book always does)")
    parser.add_argument("--batch-size", type=cli.positive_int, default=1000,
                        help="images per run of the predictor (default: 1000)")
    parser.add_argument("--serve", action="store_true",
                        help="instead of reading IMAGEs, serve a page to draw a digit on (and "
                             "POST /predict for images) until Ctrl-C")
    parser.add_argument("--host", default="127.0.0.1",
                        help="with --serve: the address to listen on (default: %(default)s, this "
                             "machine only; 0.0.0.0: anyone on your network)")
    parser.add_argument("--port", type=int, default=8000,
                        help="with --serve: the port to listen on (default: %(default)s; 0: any "
                             "free port)")
    args = parser.parse_args(argv)
    if args.serve and args.images:
        parser.error("--serve takes its images from the page, not as IMAGE arguments")
    if not args.serve and not args.images:
        parser.error("the following arguments are required: IMAGE (or --serve)")
    return args


def expand(patterns):
    """Files, folders, globs and `-` (an image piped in) -> (image paths in the order given, an
    error line for each pattern that gave none)."""
    paths, errors = [], []
    for pattern in patterns:
        if os.path.isdir(pattern):
            try:
                names = os.listdir(pattern)
            except OSError as err:
                errors.append(f"{pattern} is a folder that cannot be read ({err.strerror})")
                continue
            found = sorted(os.path.join(pattern, name) for name in names
                           if name.lower().endswith(IMAGE_EXTENSIONS))
        elif pattern == "-" or os.path.exists(pattern):
            found = [pattern]
        else:
            found = sorted(p for p in glob.glob(pattern) if os.path.isfile(p))
        if found:
            paths.extend(found)
        else:
            errors.append(f"{pattern}: no such file, or no image in it")
    return paths, errors


def load_predictor(args):
    where = device.set_device(args.device or device.default_device())
    return Predictor(args.model_dir, device=where)


def result_line(result, as_json=False):
    """The line printed for one image, from number.reading's dict: the digit and its
    probability, or the number and each digit's (`42 (4: 99.1%, 2: 97.3%)`); "not sure" after
    them when the reader is not (sureness.py)."""
    if as_json:  # a name's bytes that are not UTF-8 as \xNN, not as lone surrogates
        return json.dumps({**result, "path": shown(result["path"])})
    if "number" in result:
        answer, key = result["number"], "number"
        sureness = ", ".join(f"{d['label']}: {d['probability']:.1%}" for d in result["digits"])
    else:
        answer, key, sureness = result["label"], "label", f"{result['probability']:.1%}"
    if result.get("sure") is False:  # the best guess, and that the reader is not sure of it
        sureness += ", not sure"
    line = f"Inference result of {result['path']} is: {answer} ({sureness})"
    if len(result["top_k"]) > 1:  # the likeliest digits (or numbers)
        line += "  top %d: %s" % (len(result["top_k"]), ", ".join(
            f"{t[key]} {t['probability']:.1%}" for t in result["top_k"]))
    return line


def classify(args):
    """Name the digit (or the number) in every IMAGE, a line each; exit status 1 if any could
    not be read. All the digits of all the images go through the predictor together."""
    paths, errors = expand(args.images)
    read_info(args.model_dir)  # no trained model: say so before reading any image
    images, good = [], []
    for path in paths:
        try:
            inputs, places = number.digit_inputs(path, args.preprocess, args.digits)
            images.append(inputs)
            good.append((path, places))
        except ImageError as err:
            errors.append(str(err))
    for message in errors:
        print(f"infer.py: error: {message}", file=sys.stderr)

    if good:
        inputs = np.concatenate(images)
        probabilities = load_predictor(args)(inputs, batch_size=args.batch_size)
        starts = np.cumsum([0] + [len(each) for each in images])
        for (path, places), start, end in zip(good, starts, starts[1:]):
            result = number.reading(path, probabilities[start:end], places, args.top_k,
                                    inputs[start:end])
            sys.stdout.write(result_line(result, args.json) + "\n")  # one write: a whole line
    return 1 if errors else 0


def serve_page(args):
    """--serve: listen first (a port in use is said at once), load the model once, serve."""
    from recognize_digits.serve import layers, server  # only here: reading files needs neither

    info = read_info(args.model_dir)
    with server.open_server(args.host, args.port) as http_server:
        predictor = load_predictor(args)
        http_server.reader = server.DigitReader(predictor, args.preprocess, args.top_k,
                                                args.digits,
                                                layers.for_model(args.model_dir, info, predictor))
        return server.serve(http_server)


def main(argv=None):
    args = parse_args(argv)
    return serve_page(args) if args.serve else classify(args)


if __name__ == "__main__":
    sys.exit(cli.run(main, prog="infer.py"))
