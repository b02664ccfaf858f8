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

from recognize_digits.run.environment import prepare_paddle

prepare_paddle("train.py")  # first, before Paddle loads: its log and warnings kept from the user
import paddle  # noqa: E402

from recognize_digits import data, models, readers  # noqa: E402
from recognize_digits.inference import MODEL_INPUT, Predictor, default_save_dir  # noqa: E402
from recognize_digits.models import CHAPTER_NAMES, MODELS  # noqa: E402
from recognize_digits.plot import (confusion_matrix, format_per_class, plot_confusion,  # noqa: E402
                                   plot_costs)
from recognize_digits.run import (checkpoint, cli, device, distributed, files,  # noqa: E402
                                  model_files)
from recognize_digits.run.console import Console  # noqa: E402
from recognize_digits.training import (DivergedError, ExponentialMovingAverage,  # noqa: E402
                                       check_finite, optimizer_program, train_program, train_test)

# Augmentation by default where it was measured to help on held-out training images
# (bench/validation.py, docs/results.md): LeNet-5 validates better with it; with the moving
# average of the weights, the MLP does not; softmax regression, a linear model, cannot learn that
# a shifted digit is the same digit and loses 3 points.
AUGMENT_BY_DEFAULT = {"softmax": False, "mlp": False, "cnn": True}
# The settings of a run, when their flags are left out. The flags' own default is None, so that
# --resume can tell a flag given (and overruled by the checkpoint's setting) from one left out.
DEFAULTS = {"model": "cnn", "batch_size": 64, "lr": 0.001, "seed": 90, "ema_decay": 0.999}


def parse_args(argv=None):
    parser = cli.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), default=None,
                        help="softmax = softmax_regression, mlp = multilayer_perceptron, "
                             "cnn = convolutional_neural_network, LeNet-5 (default: cnn)")
    parser.add_argument("--epochs", type=cli.positive_int, default=5,
                        help="passes over the 60,000 training images (default: 5)")
    parser.add_argument("--batch-size", type=cli.positive_int, default=None,
                        help="images per training step, per process (default: 64)")
    parser.add_argument("--lr", type=cli.positive_float, default=None,
                        help="Adam's learning rate (default: 0.001)")
    parser.add_argument("--seed", type=cli.seed, default=None,
                        help="seed of the initial weights, each epoch's shuffle and augmentation "
                             "(default: 90)")
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                        help="randomly shift, rotate, scale and thicken the training digits "
                             "(default: on for cnn, off for softmax and mlp)")
    parser.add_argument("--ema-decay", type=cli.fraction, default=None, metavar="D",
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
                             "its model, seed, batch size, learning rate, augmentation, moving "
                             "average and training-set size")
    cli.add_device_argument(parser, "train")
    parser.add_argument("--log-interval", type=cli.positive_int, default=100,
                        help="print the training cost every this many batches (default: 100)")
    return parser.parse_args(argv)


def with_defaults(args):
    """The settings left out, at their defaults (the augmentation's depends on the model)."""
    for name, value in DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.augment is None:
        args.augment = AUGMENT_BY_DEFAULT[args.model]
    return args


def train(args, model, optimizer, ema, batches, epoch, console, stop):
    """One pass over the training set (the chapter's trainer.train): an Adam step per batch.

    Like the chapter's event_handler, prints the cost every --log-interval batches. Returns the
    [step, cost] pairs it printed, steps counted from the run's start, for the cost plot.
    """
    model.train()
    logged = []
    with console.progress(batches, f"Pass {epoch}") as progress_bar:
        for step, (images, labels) in enumerate(progress_bar):
            avg_cost, _ = train_program(model, paddle.to_tensor(images), paddle.to_tensor(labels),
                                        with_accuracy=False)
            avg_cost.backward()
            optimizer.step()
            optimizer.clear_grad()
            ema.update()  # the moving average of the weights: what gets tested and exported
            if step % args.log_interval == 0:  # reading the cost waits for the step: only to log
                cost = check_finite(float(avg_cost), epoch, step)
                logged.append([epoch * len(batches) + step, cost])
                console.print("Pass %d, Batch %d, Cost %f" % (epoch, step, cost))
            stop.check(epoch, step)  # Ctrl-C: every process stops here, at the same step
    return logged


def test(model, images, labels, epoch, console, rank=0, world=1):
    """The chapter's train_test after each pass: mean cost and accuracy on the test set.

    Exact over all its images: each process tests its own share, and the sums are added up.
    """
    share = readers.test_set_share(len(labels), rank, world)
    avg_cost, acc = train_test(model, readers.batches(images, labels, 1000, share), world)
    check_finite(avg_cost, epoch)
    console.print("Test with Epoch %d, avg_cost: %s, acc: %s" % (epoch, avg_cost, acc))
    return avg_cost, acc


def model_info(args, best):
    """What infer.py (and a curious user) needs to know about the exported model."""
    return {
        "model": args.model,
        "builder": CHAPTER_NAMES[args.model],
        **best,
        "epochs": args.epochs,
        "seed": args.seed,
        "augment": args.augment,
        "ema_decay": args.ema_decay,
        "input": MODEL_INPUT,
        "output": "probabilities of the digits 0-9, [N, 10]",
        "paddle": paddle.__version__,
    }


def take_save_dir(args, save_dir, main_process, console):
    """Before training: take the save dir for this run (a lock, held while the returned object
    lives; the main process's), find the checkpoint --resume carries on, settle the settings
    (the checkpoint's, else the flags and their defaults), and move aside a finished model a new
    run would replace. Returns (lock, checkpoint or None, settings)."""
    lock = model_files.claim_save_dir(save_dir) if main_process else None
    saved = checkpoint.read_for_resume(save_dir, args)
    args, note = checkpoint.with_run_settings(args, saved)
    console.note(note)
    if main_process and saved is None:
        console.note(model_files.keep_previous_model(save_dir))
    return lock, saved, with_defaults(args)


def describe(args, model, images, first_epoch, world):
    """The run's first line: what is trained, on what, how."""
    return (f"{'Resuming' if first_epoch else 'Training'} {CHAPTER_NAMES[args.model]} "
            f"({models.count_parameters(model):,} parameters) on {len(images):,} images"
            f"{' with augmentation' if args.augment else ''}, "
            f"epochs {first_epoch}-{args.epochs - 1}"
            f"{f', weights averaged (EMA {args.ema_decay})' if args.ema_decay else ''}, "
            f"on {paddle.get_device()}" + (f", {world} processes" if world > 1 else ""))


def save_epoch(args, save_dir, model, optimizer, ema, epoch, history, best):
    """After each pass: event_handler_plot's cost curves, and a checkpoint to resume from."""
    with files.writing("cost plot", save_dir), \
            files.atomic_path(os.path.join(save_dir, "cost.png")) as path:
        plot_costs(history, path, title=f"{CHAPTER_NAMES[args.model]}: train and test cost")
    with files.writing("checkpoint", save_dir):
        checkpoint.save_run(save_dir, model, optimizer, ema, args, epoch, history, best)


def report_saved(save_dir, images, labels, name, seconds, epochs, console):
    """Run the exported best pass with Paddle Inference on the test set: which digits it confuses;
    then say what was saved where."""
    counts = confusion_matrix(labels, Predictor(save_dir)(images).argmax(axis=1))
    with files.writing("confusion matrix", save_dir), \
            files.atomic_path(os.path.join(save_dir, "confusion.png")) as path:
        plot_confusion(counts, path, name)
    console.print("Per-class accuracy: " + format_per_class(counts))
    console.print(f"Trained {epochs} epoch{'s' if epochs > 1 else ''} in {seconds:.1f} s "
                  f"({seconds / epochs:.1f} s per epoch, test loop included); inference model, "
                  f"cost plot and confusion matrix saved in {save_dir}/")


def main(argv=None):
    args = parse_args(argv)
    save_dir = args.save_dir or default_save_dir(args.model or DEFAULTS["model"])
    rank, world = distributed.init()
    main_process = rank == 0  # only it prints, plots, checkpoints and exports
    console = Console(enabled=main_process, prog="train.py")
    lock, saved, args = take_save_dir(args, save_dir, main_process, console)  # noqa: F841
    device.set_device(args.device or device.default_device())
    paddle.seed(args.seed)

    # The chapter's readers: MNIST's training and test images, scaled to [-1, 1].
    train_images, train_labels = data.load_mnist("train", args.data_dir)
    train_images, train_labels = train_images[:args.train_size], train_labels[:args.train_size]
    test_images, test_labels = data.load_mnist("test", args.data_dir)

    # The network, Adam, and the moving average of the weights that is tested and exported.
    model = models.build(args.model)
    optimizer = optimizer_program(model.parameters(), args.lr)
    ema = ExponentialMovingAverage(model, args.ema_decay)
    history, best, first_epoch = checkpoint.restore(saved, model, optimizer, ema)
    # Several processes: parallel_model averages the gradients over them after each backward.
    parallel_model = paddle.DataParallel(model) if world > 1 else model
    console.print(describe(args, model, train_labels, first_epoch, world))

    start, resume = time.perf_counter(), checkpoint.resume_command(args, save_dir, world)
    try:
        with distributed.StopTogether(world, save_dir, resume, quiet=not main_process) as stop:
            for epoch in range(first_epoch, args.epochs):
                started = time.perf_counter()
                batches = readers.TrainingBatches(train_images, train_labels, args.batch_size,
                                                  args.seed, epoch, args.augment, rank, world)
                history["train"] += train(args, parallel_model, optimizer, ema, batches, epoch,
                                          console, stop)
                trained = time.perf_counter()
                with ema.apply():  # the averaged weights are tested, and exported if best
                    avg_cost, acc = test(parallel_model, test_images, test_labels, epoch, console,
                                         rank, world)
                    history["test"].append([(epoch + 1) * len(batches), avg_cost, acc])
                    history["seconds"].append([trained - started, time.perf_counter() - trained])
                    # The chapter's best pass: the lowest test cost so far, exported for infer.py.
                    if main_process and (best is None or avg_cost < best["test_cost"]):
                        best = {"epoch": epoch, "test_cost": avg_cost, "test_acc": acc}
                        with files.writing("inference model", save_dir):
                            model_files.export_model(save_dir, model, model_info(args, best))
                if main_process:
                    save_epoch(args, save_dir, model, optimizer, ema, epoch, history, best)
    except DivergedError as err:
        raise err.kept(best, save_dir) from None

    if world > 1:  # data parallelism's promise: the same model on every process
        console.print(distributed.check_parameters_agree(model, world))
    if not main_process:
        return 0
    console.print("Best pass is %s, testing Avgcost is %s" % (best["epoch"], best["test_cost"]))
    console.print("The classification accuracy is %.2f%%" % (best["test_acc"] * 100))
    report_saved(save_dir, test_images, test_labels, CHAPTER_NAMES[args.model],
                 time.perf_counter() - start, args.epochs - first_epoch, console)
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main, prog="train.py", results_on_stdout=False))
