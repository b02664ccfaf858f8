"""Train a model of the "Recognize Digits" chapter on MNIST and export it for inference.

    python train.py                      # LeNet-5 (the chapter's convolutional_neural_network)
    python train.py --model softmax      # softmax_regression
    python train.py --model mlp          # multilayer_perceptron

Prints the chapter's log lines (`Pass %d, Batch %d, Cost %f`, `Test with Epoch %d, ...`), keeps
the best pass (lowest test cost) as an inference model for infer.py, and plots the costs.
"""

import os
import sys
import time

from recognize_digits import cli
from recognize_digits.models import MODELS

CHAPTER_NAMES = {
    "softmax": "softmax_regression",
    "mlp": "multilayer_perceptron",
    "cnn": "convolutional_neural_network",
}


def parse_args(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="cnn",
                        help="softmax = softmax_regression, mlp = multilayer_perceptron, "
                             "cnn = convolutional_neural_network, LeNet-5 (default: cnn)")
    parser.add_argument("--epochs", type=cli.positive_int, default=5,
                        help="passes over the 60,000 training images (default: 5)")
    parser.add_argument("--batch-size", type=cli.positive_int, default=64,
                        help="images per training step (default: 64)")
    parser.add_argument("--lr", type=cli.positive_float, default=0.001,
                        help="Adam's learning rate (default: 0.001)")
    parser.add_argument("--seed", type=int, default=90,
                        help="seed of the initial weights and of each epoch's shuffle (default: 90)")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding the four MNIST .gz files (default: $MNIST_DIR, else "
                             "~/.cache/paddle/dataset/mnist, downloading them there if absent)")
    parser.add_argument("--save-dir", default=None,
                        help="where the inference model, its info and the plot go "
                             "(default: recognize_digits_<model>.inference.model)")
    parser.add_argument("--device", choices=["cpu", "gpu"], default=None,
                        help="where to train (default: gpu when Paddle has one, else cpu)")
    parser.add_argument("--log-interval", type=cli.positive_int, default=100,
                        help="print the training cost every this many batches (default: 100)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)

    # Imported here, after the flags are read, so that --help and flag errors answer at once.
    import paddle
    from tqdm import tqdm

    from recognize_digits import data, device, files, models, training
    from recognize_digits.inference import default_save_dir, save_inference_model
    from recognize_digits.plot import plot_costs

    save_dir = args.save_dir or default_save_dir(args.model)
    try:
        files.check_writable(save_dir)
    except OSError as err:
        raise cli.RecognizeDigitsError(
            f"cannot write to the save dir {save_dir} ({err.strerror or err}); "
            f"free some space or choose another folder with --save-dir."
        ) from None
    device.set_device(args.device or device.default_device())
    paddle.seed(args.seed)

    train_images, train_labels = data.load_mnist("train", args.data_dir)
    test_images, test_labels = data.load_mnist("test", args.data_dir)

    model = models.build(args.model)
    optimizer = training.optimizer_program(model.parameters(), args.lr)
    print(f"Training {CHAPTER_NAMES[args.model]} ({models.count_parameters(model):,} parameters) "
          f"on {len(train_labels):,} images for {args.epochs} epochs on {paddle.get_device()}")

    history = {"train": [], "test": []}  # what event_handler_plot draws
    steps_per_epoch = -(-len(train_labels) // args.batch_size)
    best = None
    start = time.perf_counter()
    for epoch in range(args.epochs):
        order = data.epoch_permutation(len(train_labels), args.seed, epoch)
        # On a terminal, a progress bar with speed and ETA; piped to a file, clean lines only.
        bar = tqdm(total=len(train_labels), desc=f"Pass {epoch}", unit="img", leave=False,
                   disable=not sys.stderr.isatty(), dynamic_ncols=True)

        def event_handler(step, avg_cost):
            """The chapter's event_handler: log the cost every --log-interval batches."""
            bar.update(args.batch_size if step < steps_per_epoch - 1 else bar.total - bar.n)
            if step % args.log_interval == 0:
                cost = float(avg_cost)
                training.check_finite(cost, epoch, step)
                history["train"].append([epoch * steps_per_epoch + step, cost])
                tqdm.write("Pass %d, Batch %d, Cost %f" % (epoch, step, cost))

        try:
            training.train_epoch(model, optimizer,
                                 data.batches(train_images, train_labels, args.batch_size, order),
                                 event_handler)
        finally:
            bar.close()
        avg_cost, acc = training.train_test(model, data.batches(test_images, test_labels, 1000))
        training.check_finite(avg_cost, epoch, steps_per_epoch - 1)
        print("Test with Epoch %d, avg_cost: %s, acc: %s" % (epoch, avg_cost, acc))
        history["test"].append([(epoch + 1) * steps_per_epoch, avg_cost, acc])

        if best is None or avg_cost < best["test_cost"]:
            best = {"epoch": epoch, "test_cost": avg_cost, "test_acc": acc}
            save_inference_model(save_dir, model, {
                "model": args.model,
                "builder": CHAPTER_NAMES[args.model],
                **best,
                "epochs": args.epochs,
                "seed": args.seed,
                "input": {"name": "img", "shape": [None, 1, 28, 28], "dtype": "float32",
                          "scaling": "x / 255 * 2 - 1: white digit on black in [-1, 1], as MNIST"},
                "output": "probabilities of the digits 0-9, [N, 10]",
                "paddle": paddle.__version__,
            })
        plot_costs(history, os.path.join(save_dir, "cost.png"),
                   title=f"{CHAPTER_NAMES[args.model]}: train and test cost")

    seconds = time.perf_counter() - start
    print("Best pass is %s, testing Avgcost is %s" % (best["epoch"], best["test_cost"]))
    print("The classification accuracy is %.2f%%" % (best["test_acc"] * 100))
    print(f"Trained {args.epochs} epochs in {seconds:.1f} s ({seconds / args.epochs:.1f} s per "
          f"epoch, test loop included); inference model and cost plot saved in {save_dir}/")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
