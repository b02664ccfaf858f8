"""The speed report: where the time of training and inference goes, on this machine.

    python bench/speed.py                 # about 2 minutes on 2 CPU cores
    python bench/speed.py --skip-torch    # without the PyTorch comparison

1. Training images/s of each model (steps of 64, the chapter's settings), without and with the
   moving average of the weights (train.py's default), and where LeNet-5's epoch goes: training steps, input pipeline (see bench/pipeline.py), test loop. LeNet-5 as
   built now vs as first built (`paddle.nn.Conv2D`'s own bias add, see models.FastBiasConv2D),
   measured alternately.
2. Evaluation images/s: the dynamic graph (training.predict) vs the Paddle Inference predictor.
3. `python infer.py one.png` cold start vs `python -c "import paddle"`.
4. Where PyTorch is installed: the same three networks, same settings, in a plain PyTorch loop.
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

import recognize_digits  # noqa: E402,F401
import numpy as np  # noqa: E402
import paddle  # noqa: E402
from machine import describe  # noqa: E402
from recognize_digits import data, inference, models, readers, training  # noqa: E402

LENET_MFLOP_PER_IMAGE = 11.0  # forward + backward of one 28x28 image, as counted in the README


def steps_per_second(model, images, labels, steps, ema_decay=0.0):
    """Training steps of 64 per second; with `ema_decay`, each also updates the moving average."""
    optimizer = training.optimizer_program(model.parameters())
    ema = training.ExponentialMovingAverage(model, ema_decay)
    x, y = paddle.to_tensor(images[:64]), paddle.to_tensor(labels[:64])
    model.train()

    def run(n):
        for _ in range(n):
            cost, _ = training.train_program(model, x, y, with_accuracy=False)
            cost.backward()
            optimizer.step()
            optimizer.clear_grad()
            ema.update()
        float(cost)

    run(10)  # warm up
    start = time.perf_counter()
    run(steps)
    return steps / (time.perf_counter() - start)


def lenet_as_first_built():
    """LeNet-5 with `paddle.nn.Conv2D` adding its own bias, as this project first built it."""
    ours, models.FastBiasConv2D = models.FastBiasConv2D, paddle.nn.Conv2D
    try:
        return models.convolutional_neural_network()
    finally:
        models.FastBiasConv2D = ours


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


def torch_images_per_second(name, images, labels, steps):
    import torch
    from torch import nn
    from torch_nets import NETWORKS

    net = NETWORKS[name]()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    x, y = torch.from_numpy(images[:64]), torch.from_numpy(labels[:64])

    def run(n):
        for _ in range(n):
            loss = nn.functional.cross_entropy(net(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    run(10)
    start = time.perf_counter()
    run(steps)
    return 64 * steps / (time.perf_counter() - start), torch.__version__, torch.get_num_threads()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--skip-torch", action="store_true")
    args = parser.parse_args()
    print(f"Machine: {describe()}\n")

    images, labels = data.load_mnist("train", args.data_dir)
    test_images, test_labels = data.load_mnist("test", args.data_dir)
    steps = {"softmax": 2000, "mlp": 1000, "cnn": 150}
    paddle_speed = {}
    print("1. Training, steps of 64 images (forward, backward, Adam), dynamic graph")
    for name in ("softmax", "mlp", "cnn"):
        paddle.seed(0)
        paddle_speed[name] = 64 * steps_per_second(models.build(name), images, labels, steps[name])
        paddle.seed(0)
        with_ema = 64 * steps_per_second(models.build(name), images, labels, steps[name], 0.999)
        print(f"   {name:8s} {paddle_speed[name]:9,.0f} images/s; updating the moving average of "
              f"the weights too: {with_ema:9,.0f} ({paddle_speed[name] / with_ema - 1:+.1%} time)")
    lenets = {"as built now (models.FastBiasConv2D)": models.convolutional_neural_network,
              "as first built (nn.Conv2D)": lenet_as_first_built}
    rounds = {name: [] for name in lenets}
    for _ in range(3):  # alternately, so that both see the same machine
        for name, build in lenets.items():
            paddle.seed(0)
            rounds[name].append(64 * steps_per_second(build(), images, labels, steps["cnn"]))
    for name, speeds in rounds.items():
        speed = statistics.median(speeds)
        print(f"   LeNet-5 {name:29s} {speed:6,.0f} images/s = "
              f"{speed * LENET_MFLOP_PER_IMAGE / 1000:.1f} GFLOP/s ({LENET_MFLOP_PER_IMAGE:.0f} "
              f"MFLOP per image; median of 3)")

    print(f"   LeNet-5's first bias add, forward + backward: as [1, 20, 1, 1] (nn.Conv2D) "
          f"{bias_add_ms([1, 20, 1, 1]):.2f} ms, as [20, 1, 1] (models.FastBiasConv2D) "
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
        inference.save_inference_model(tmp, lenet, {"model": "cnn"})
        start = time.perf_counter()
        training.predict(lenet, test_images)
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
    print("\n4. The same networks and settings in PyTorch (plain loop, same machine, same run)")
    for name in ("softmax", "mlp", "cnn"):
        speed, version, threads = torch_images_per_second(name, images, labels, steps[name])
        print(f"   {name:8s} PyTorch {speed:9,.0f} images/s, Paddle {paddle_speed[name]:9,.0f}: "
              f"Paddle / PyTorch = {paddle_speed[name] / speed:.2f} (torch {version}, "
              f"{threads} threads)")


if __name__ == "__main__":
    main()
