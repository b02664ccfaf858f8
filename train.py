"""Train a model of the "Recognize Digits" chapter on MNIST and export it for inference.

    python train.py                      # LeNet-5 (the chapter's convolutional_neural_network)
    python train.py --model softmax      # softmax_regression
    python train.py --model mlp          # multilayer_perceptron
    python train.py --resume             # carry on after an interruption (Ctrl-C)

Prints the chapter's log lines (`Pass %d, Batch %d, Cost %f`, `Test with Epoch %d, ...`), keeps
the best pass (lowest test cost) as an inference model for infer.py, plots the costs, and keeps a
checkpoint after every epoch. Runs data-parallel, unchanged, under
`python -m paddle.distributed.launch --nproc_per_node N train.py`.
"""

import argparse
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
# Augmentation by default where it was measured to help on held-out training images
# (bench/validation.py, README "Choosing the defaults"): LeNet-5 validates better with it; with
# the moving average of the weights, the MLP does not; softmax regression, a linear model, cannot
# learn that a shifted digit is the same digit and loses 3 points.
AUGMENT_BY_DEFAULT = {"softmax": False, "mlp": False, "cnn": True}
# With several processes, how often they agree on whether to stop (Ctrl-C): every 20 steps is
# under a second of LeNet-5 training.
STOP_CHECK_STEPS = 20
# What --resume takes from the checkpoint rather than from the command line.
RUN_SETTINGS = ("model", "batch_size", "lr", "seed", "augment", "ema_decay")


def parse_args(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), default=None,
                        help="softmax = softmax_regression, mlp = multilayer_perceptron, "
                             "cnn = convolutional_neural_network, LeNet-5 (default: cnn)")
    parser.add_argument("--epochs", type=cli.positive_int, default=5,
                        help="passes over the 60,000 training images (default: 5)")
    parser.add_argument("--batch-size", type=cli.positive_int, default=64,
                        help="images per training step, per process (default: 64)")
    parser.add_argument("--lr", type=cli.positive_float, default=0.001,
                        help="Adam's learning rate (default: 0.001)")
    parser.add_argument("--seed", type=int, default=90,
                        help="seed of the initial weights, each epoch's shuffle and augmentation "
                             "(default: 90)")
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                        help="randomly shift, rotate, scale and thicken the training digits "
                             "(default: on for cnn, off for softmax and mlp)")
    parser.add_argument("--ema-decay", type=cli.fraction, default=0.999, metavar="D",
                        help="test and export a moving average of the weights over the last "
                             "steps (at most about 1/(1-D) of them); 0 tests and exports the "
                             "weights as trained, as the chapter does (default: 0.999)")
    parser.add_argument("--train-size", type=cli.positive_int, default=None, metavar="N",
                        help="train on the first N training images only, for quick experiments "
                             "(default: all 60,000)")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding the four MNIST .gz files (default: $MNIST_DIR, else "
                             "~/.cache/paddle/dataset/mnist, downloading them there if absent)")
    parser.add_argument("--save-dir", default=None,
                        help="where the inference model, its info, the plot and the checkpoint go "
                             "(default: recognize_digits_<model>.inference.model)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run checkpointed in --save-dir up to --epochs, with "
                             "its model, seed, batch size, learning rate, augmentation and "
                             "moving average")
    parser.add_argument("--device", choices=["cpu", "gpu"], default=None,
                        help="where to train (default: gpu when Paddle has one, else cpu)")
    parser.add_argument("--log-interval", type=cli.positive_int, default=100,
                        help="print the training cost every this many batches (default: 100)")
    args = parser.parse_args(argv)
    args.model_given = args.model is not None  # --resume must know if the user named one
    args.model = args.model or "cnn"
    if args.augment is None:
        args.augment = AUGMENT_BY_DEFAULT[args.model]
    return args


def resume_command(args, save_dir, world):
    """The command line that resumes this run."""
    launch = ["-m", "paddle.distributed.launch", "--nproc_per_node", str(world)] if world > 1 else []
    words = ["python", *launch, "train.py", "--resume", "--save-dir", save_dir,
             "--epochs", str(args.epochs)]
    if args.data_dir:
        words += ["--data-dir", args.data_dir]
    return " ".join(words)


def read_resume_checkpoint(args, save_dir):
    """With --resume, the checkpoint to continue (its settings put into `args`); else None.

    Without --resume, an unfinished run's checkpoint is never overwritten by a new run.
    """
    from recognize_digits.checkpoint import CHECKPOINT_FILE, CheckpointError, read_checkpoint

    saved = read_checkpoint(save_dir)
    done = saved["state"]["epoch"] + 1 if saved else 0
    if not args.resume:
        if saved and done < saved["state"]["args"]["epochs"]:
            raise CheckpointError(
                f"{save_dir} holds an unfinished run ({done} of {saved['state']['args']['epochs']} "
                f"epochs): continue it with --resume, or train into another --save-dir.")
        return None
    if saved is None:
        raise CheckpointError(f"nothing to resume: {save_dir} holds no {CHECKPOINT_FILE}; "
                              f"start a run without --resume, or pass the run's --save-dir.")
    if done >= args.epochs:
        raise CheckpointError(f"the run in {save_dir} has already trained {done} epochs: pass "
                              f"--epochs N with a larger N to train it further.")
    if args.model_given and args.model != saved["state"]["args"]["model"]:
        raise CheckpointError(f"the run in {save_dir} trains --model "
                              f"{saved['state']['args']['model']}, not {args.model}: resume it "
                              f"without --model, or pass another --save-dir.")
    for name in RUN_SETTINGS:
        setattr(args, name, saved["state"]["args"][name])
    return saved


def model_info(args, best, paddle_version):
    """What infer.py (and a curious user) needs to know about the exported model."""
    return {
        "model": args.model,
        "builder": CHAPTER_NAMES[args.model],
        **best,
        "epochs": args.epochs,
        "seed": args.seed,
        "augment": args.augment,
        "ema_decay": args.ema_decay,
        "input": {"name": "img", "shape": [None, 1, 28, 28], "dtype": "float32",
                  "scaling": "x / 255 * 2 - 1: white digit on black in [-1, 1], as MNIST"},
        "output": "probabilities of the digits 0-9, [N, 10]",
        "paddle": paddle_version,
    }


def main(argv=None):
    args = parse_args(argv)

    # Imported here, after the flags are read, so that --help and flag errors answer at once.
    import numpy as np
    import paddle
    from tqdm import tqdm

    from recognize_digits import checkpoint, data, device, distributed, files, models, training
    from recognize_digits.inference import default_save_dir, save_inference_model
    from recognize_digits.plot import plot_costs

    save_dir = args.save_dir or default_save_dir(args.model)
    saved = read_resume_checkpoint(args, save_dir)
    rank, world = distributed.init()
    main_process = rank == 0  # only it prints, plots, checkpoints and exports
    log = tqdm.write if main_process else (lambda line: None)

    def save(what, write):
        """Write a file of the run; a full disk or a vanished folder is one clear error."""
        try:
            write()
        except OSError as err:
            raise cli.RecognizeDigitsError(
                f"could not write the {what} in {save_dir} ({err.strerror or err}); the files "
                f"already there are kept. Free some space, or choose another --save-dir.") from None

    if main_process:  # a read-only or full save dir: say so now, not after the first epoch
        try:
            files.check_writable(save_dir)
        except OSError as err:
            raise cli.RecognizeDigitsError(
                f"cannot write to the save dir {save_dir} ({err.strerror or err}); free some "
                f"space or choose another folder with --save-dir.") from None
    device.set_device(args.device or device.default_device())
    paddle.seed(args.seed)
    train_images, train_labels = data.load_mnist("train", args.data_dir)
    train_images, train_labels = train_images[:args.train_size], train_labels[:args.train_size]
    test_images, test_labels = data.load_mnist("test", args.data_dir)

    network = models.build(args.model)
    optimizer = training.optimizer_program(network.parameters(), args.lr)
    # The weights tested and exported: averaged over the last steps (--ema-decay).
    ema = training.ExponentialMovingAverage(network, args.ema_decay)
    # What event_handler_plot draws, and how long each epoch's training and test passes took.
    history = {"train": [], "test": [], "seconds": []}
    best, first_epoch = None, 0
    if saved:
        checkpoint.restore(saved, network, optimizer, ema)
        history, best = saved["state"]["history"], saved["state"]["best"]
        first_epoch = saved["state"]["epoch"] + 1
    # Several processes: DataParallel averages the gradients over them after each backward.
    model = paddle.DataParallel(network) if world > 1 else network
    steps_per_epoch = -(-len(data.shard(train_labels, rank, world)) // args.batch_size)
    log(f"{'Resuming' if saved else 'Training'} {CHAPTER_NAMES[args.model]} "
        f"({models.count_parameters(network):,} parameters) on {len(train_labels):,} images"
        f"{' with augmentation' if args.augment else ''}, epochs {first_epoch}-{args.epochs - 1}"
        f"{f', weights averaged (EMA {args.ema_decay})' if args.ema_decay else ''}, "
        f"on {paddle.get_device()}" + (f", {world} processes" if world > 1 else ""))

    def train_pass(epoch, stop):
        """One epoch of training on this process's shard, logging as the chapter does."""
        batches = data.training_batches(train_images, train_labels, args.batch_size, args.seed,
                                        epoch, args.augment, rank, world)
        # On a terminal, a progress bar with speed and ETA; piped to a file, clean lines only.
        bar = tqdm(total=steps_per_epoch, desc=f"Pass {epoch}", unit="batch", leave=False,
                   disable=not (main_process and sys.stderr.isatty()), dynamic_ncols=True)

        def event_handler(step, avg_cost):
            """The chapter's event_handler: log the cost every --log-interval batches."""
            bar.update()
            if step % args.log_interval == 0:
                cost = float(avg_cost)  # waits for the step to finish: only when logging
                training.check_finite(cost, epoch, step)
                history["train"].append([epoch * steps_per_epoch + step, cost])
                log("Pass %d, Batch %d, Cost %f" % (epoch, step, cost))
            # Several processes stop together, at the same step, or one would wait forever for
            # the others' gradients: any process's stop request is shared with all of them, every
            # STOP_CHECK_STEPS steps (an all-reduce costs about as much as an MLP step).
            if world == 1:
                stopping = bool(stop)
            else:
                stopping = step % STOP_CHECK_STEPS == 0 and \
                    distributed.all_sum([float(bool(stop))], world)[0] > 0
            if stopping:
                raise cli.Interrupted(epoch, step, stop.signal or "another process's signal")

        with bar:
            training.train_epoch(model, optimizer, batches, event_handler, ema)

    def test_pass(epoch):
        """The chapter's train_test after each epoch: exact over the 10,000 test images."""
        order = data.shard(np.arange(len(test_labels)), rank, world)
        avg_cost, acc = training.train_test(
            model, data.batches(test_images, test_labels, 1000, order), world)
        training.check_finite(avg_cost, epoch, steps_per_epoch - 1)
        log("Test with Epoch %d, avg_cost: %s, acc: %s" % (epoch, avg_cost, acc))
        history["test"].append([(epoch + 1) * steps_per_epoch, avg_cost, acc])
        return avg_cost, acc

    start = time.perf_counter()
    try:
        with cli.stop_on_signals() as stop:
            for epoch in range(first_epoch, args.epochs):
                started = time.perf_counter()
                train_pass(epoch, stop)
                trained = time.perf_counter()
                with ema.apply():  # the averaged weights are tested and, if best, exported
                    avg_cost, acc = test_pass(epoch)
                    tested = time.perf_counter()
                    # The chapter's best pass: the lowest test cost so far.
                    if main_process and (best is None or avg_cost < best["test_cost"]):
                        best = {"epoch": epoch, "test_cost": avg_cost, "test_acc": acc}
                        save("inference model", lambda: save_inference_model(
                            save_dir, network, model_info(args, best, paddle.__version__)))
                history["seconds"].append([trained - started, tested - trained])
                if not main_process:
                    continue
                save("cost plot", lambda: plot_costs(
                    history, os.path.join(save_dir, "cost.png"),
                    title=f"{CHAPTER_NAMES[args.model]}: train and test cost"))
                save("checkpoint", lambda: checkpoint.save_checkpoint(
                    save_dir, network, optimizer, ema, {
                        "epoch": epoch, "history": history, "best": best,
                        "args": {name: getattr(args, name) for name in RUN_SETTINGS + ("epochs",)},
                    }))
    except training.DivergedError as err:
        kept = f" The best model so far (pass {best['epoch']}) is kept in {save_dir}." if best else ""
        raise training.DivergedError(f"{err}{kept}") from None
    except cli.Interrupted as stopped:
        if main_process:
            print(stopped.message(save_dir, resume_command(args, save_dir, world)), file=sys.stderr)
        return 130

    seconds = time.perf_counter() - start
    done = args.epochs - first_epoch
    if world > 1:
        if not distributed.parameters_agree(network, world):
            raise cli.RecognizeDigitsError(f"the parameters differ between the {world} processes")
        log(f"The parameters are identical on all {world} processes.")
    if not main_process:
        return 0
    log("Best pass is %s, testing Avgcost is %s" % (best["epoch"], best["test_cost"]))
    log("The classification accuracy is %.2f%%" % (best["test_acc"] * 100))

    # The exported best pass, run by Paddle Inference on the test set: which digits it confuses.
    from recognize_digits import figures
    from recognize_digits.inference import Predictor

    predicted = Predictor(save_dir)(test_images).argmax(axis=1)
    counts = figures.confusion_matrix(test_labels, predicted)
    save("confusion matrix", lambda: figures.plot_confusion(
        counts, os.path.join(save_dir, "confusion.png"), CHAPTER_NAMES[args.model]))
    log("Per-class accuracy: " + ", ".join(
        f"{digit}: {acc:.2%}" for digit, acc in enumerate(counts.diagonal() / counts.sum(axis=1))))
    log(f"Trained {done} epoch{'s' if done > 1 else ''} in {seconds:.1f} s ({seconds / done:.1f} "
        f"s per epoch, test loop included); inference model, cost plot and confusion matrix "
        f"saved in {save_dir}/")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main, prog="train.py"))
