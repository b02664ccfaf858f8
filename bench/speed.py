"""The speed report: where the time of training and inference goes, on this machine.

    python bench/speed.py                 # about 2 minutes on 2 CPU cores
    python bench/speed.py --skip-torch    # without the PyTorch comparison
    python bench/speed.py --torch-threads 1   # PyTorch on one core, as Paddle's step runs

1. Training images/s of each model (steps of 64, the chapter's settings), without and with the
   moving average of the weights (train.py's default), and where LeNet-5's epoch goes: training
   steps, input pipeline (see bench/pipeline.py), test loop. LeNet-5 as built now
   (models.SimpleImgConvPool) vs as first built (plain nn.Conv2D, nn.ReLU, nn.MaxPool2D),
   measured alternately.
2. Evaluation images/s: the dynamic graph (training.probabilities) vs the Paddle Inference predictor.
3. `python infer.py one.png` cold start vs `python -c "import paddle"`.
4. Where PyTorch is installed: the same three networks, same settings, in a plain PyTorch loop,
   timed alternately with Paddle's in this process (Paddle, PyTorch, Paddle, ...: 3 rounds each);
   the ratio is the median of the 3 rounds' ratios, printed with their spread.
Every line carries the machine it was measured on.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()  # before Paddle loads: MKL's code path on AMD, Paddle's log kept quiet
import paddle  # noqa: E402
from steps import describe  # noqa: E402
from recognize_digits import data, inference, models, readers, training  # noqa: E402
from recognize_digits.run import cli  # noqa: E402
from steps import StepTimer, alternately, fixed_batch, ratio_summary  # noqa: E402

LENET_MFLOP_PER_IMAGE = 11.0  # forward + backward of one 28x28 image, as counted in the README


def paddle_steps(model, images, labels, ema_decay=0.0):
    """A function that runs n training steps of 64 (train.py's step) and returns images/s; with
    `ema_decay`, each step also updates the moving average."""
    return StepTimer(model, fixed_batch(images, labels), ema_decay=ema_decay, warm_up=10)


def lenet_as_first_built():
    """LeNet-5 from plain `paddle.nn` layers, as this project first built it: conv (adding its
    own bias), ReLU and max-pool in the chapter's order (see models.SimpleImgConvPool)."""
    nn = paddle.nn
    return nn.Sequential(
        nn.Conv2D(1, 20, kernel_size=5), nn.ReLU(), nn.MaxPool2D(kernel_size=2, stride=2),
        nn.BatchNorm2D(20),
        nn.Conv2D(20, 50, kernel_size=5), nn.ReLU(), nn.MaxPool2D(kernel_size=2, stride=2),
        nn.Flatten(), nn.Linear(50 * 4 * 4, 10))


def bias_add_ms(bias_shape, repeats=50):
    """Forward and backward of adding the first convolution's bias to its output [64, 20, 24, 24],
    the bias reshaped to `bias_shape`, in ms."""
    out = paddle.rand([64, 20, 24, 24])
    out.stop_gradient = False
    bias = paddle.create_parameter([20], "float32")

    def once():
        (out + bias.reshape(bias_shape)).sum().backward()

    once()
    start = time.perf_counter()
    for _ in range(repeats):
        once()
    return (time.perf_counter() - start) / repeats * 1000


def wall(command, repeats=5):
    """Median wall time of a command, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torch_steps(name, images, labels):
    """The same as paddle_steps, for the same network in PyTorch (bench/torch_nets.py)."""
    import torch
    from torch import nn
    from pytorch_reference import NETWORKS

    net = NETWORKS[name]()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    x, y = torch.from_numpy(images[:64]), torch.from_numpy(labels[:64])

    def run(n):
        start = time.perf_counter()
        for _ in range(n):
            loss = nn.functional.cross_entropy(net(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return 64 * n / (time.perf_counter() - start)

    run(10)
    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--skip-torch", action="store_true")
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="PyTorch's intra-op threads (default: PyTorch's own, one per core); "
                             "1 compares the two frameworks core for core")
    args = parser.parse_args(argv)
    print(f"Machine: {describe()}\n")

    images, labels = data.load_mnist("train", args.data_dir)
    test_images, test_labels = data.load_mnist("test", args.data_dir)
    steps = {"softmax": 2000, "mlp": 1000, "cnn": 150}
    paddle_speed = {}
    print("1. Training, steps of 64 images (forward, backward, Adam), dynamic graph")
    for name in ("softmax", "mlp", "cnn"):
        paddle.seed(0)
        speeds = alternately({ema: paddle_steps(models.build(name), images, labels, ema)
                              for ema in (0.0, 0.999)}, steps[name])
        paddle_speed[name], with_ema = (statistics.median(speeds[ema]) for ema in (0.0, 0.999))
        print(f"   {name:8s} {paddle_speed[name]:9,.0f} images/s; updating the moving average of "
              f"the weights too: {with_ema:9,.0f} ({paddle_speed[name] / with_ema - 1:+.1%} time; "
              f"medians of 3, alternately)")
    lenets = {"as built now (SimpleImgConvPool)": models.convolutional_neural_network,
              "as first built (nn layers)": lenet_as_first_built}
    paddle.seed(0)
    rounds = alternately({name: paddle_steps(build(), images, labels)
                          for name, build in lenets.items()}, steps["cnn"])
    for name, speeds in rounds.items():
        speed = statistics.median(speeds)
        print(f"   LeNet-5 {name:29s} {speed:6,.0f} images/s = "
              f"{speed * LENET_MFLOP_PER_IMAGE / 1000:.1f} GFLOP/s ({LENET_MFLOP_PER_IMAGE:.0f} "
              f"MFLOP per image; median of 3, {min(speeds):,.0f}-{max(speeds):,.0f})")

    print(f"   LeNet-5's first bias add, forward + backward: as [1, 20, 1, 1] (nn.Conv2D) "
          f"{bias_add_ms([1, 20, 1, 1]):.2f} ms, as [20, 1, 1] (models.SimpleImgConvPool) "
          f"{bias_add_ms([20, 1, 1]):.2f} ms")

    paddle.seed(0)
    lenet = models.convolutional_neural_network()
    start = time.perf_counter()
    training.train_test(lenet, readers.batches(test_images, test_labels, 1000))
    test_loop = time.perf_counter() - start
    steps_s = 60000 / paddle_speed["cnn"]
    print(f"   LeNet-5 epoch: training steps {steps_s:.1f} s, test loop {test_loop:.1f} s, input "
          f"pipeline: see bench/pipeline.py")

    print("\n2. Evaluation of LeNet-5 on the 10,000 test images, batches of 1,000")
    with tempfile.TemporaryDirectory() as tmp:
        inference.save_inference_model(tmp, lenet)
        start = time.perf_counter()
        training.probabilities(lenet, test_images)
        dygraph = 10000 / (time.perf_counter() - start)
        predictor = inference.Predictor(tmp)
        predictor(test_images[:1000])  # warm up
        start = time.perf_counter()
        predictor(test_images)
        engine = 10000 / (time.perf_counter() - start)
        print(f"   dynamic graph          {dygraph:9,.0f} images/s")
        print(f"   Paddle Inference       {engine:9,.0f} images/s ({engine / dygraph:.1f}x)")

        print("\n3. Start-up, median of 5 runs")
        one_png = os.path.join("image", "infer_3.png")
        base = wall([sys.executable, "-c", "import paddle"])
        infer = wall([sys.executable, "infer.py", one_png, "--model-dir", tmp])
        print(f"   python -c 'import paddle'        {base:5.2f} s")
        print(f"   python infer.py image/infer_3.png {infer:5.2f} s ({infer / base:.2f}x)")

    if args.skip_torch:
        return
    try:
        import torch  # noqa: F401
    except ImportError:
        print("\n4. PyTorch is not installed: no comparison.")
        return
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    print(f"\n4. The same networks and settings in PyTorch {torch.__version__} "
          f"({torch.get_num_threads()} threads), timed alternately with Paddle's in this process")
    for name in ("softmax", "mlp", "cnn"):
        paddle.seed(0)
        speeds = alternately({"paddle": paddle_steps(models.build(name), images, labels),
                              "torch": torch_steps(name, images, labels)}, steps[name])
        print(f"   {name:8s} PyTorch {statistics.median(speeds['torch']):9,.0f} images/s, Paddle "
              f"{statistics.median(speeds['paddle']):9,.0f} images/s: Paddle / PyTorch = "
              f"{ratio_summary(speeds['paddle'], speeds['torch'])}")


if __name__ == "__main__":
    sys.exit(cli.run(main))
