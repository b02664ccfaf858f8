"""What a small model's training step is made of: operator calls, Adam, the moving average.

    python bench/step_parts.py                 # the MLP
    python bench/step_parts.py --model softmax

1. Operators called per training step (forward, backward, Adam; and the moving average's update),
   counted by paddle.profiler, and where PyTorch is installed, PyTorch's top-level operators for
   the same network and step (bench/torch_nets.py). Each call costs a few microseconds of dispatch
   whatever its size, which is much of a step of 0.2-1 ms.
2. Adam with one `adam_` call per parameter against one `merged_adam_` call for all
   (`use_multi_tensor=True`, what training.optimizer_program uses): training steps, alternately,
   5 rounds; and the largest difference of the weights after 30 steps (float rounding).
3. The moving average's update (training.ExponentialMovingAverage.update) alone, in ms, against
   two ways to do it in fewer calls: `lerp_` (one call per tensor) and one flat buffer for all the
   tensors (a concat, then one update), and its share of a training step.
4. The step's forward pass and cost as one static program (`paddle.jit.to_static` of
   training.train_program, run by Paddle's executor) against the dynamic graph, alternately.
   (`git show fd54ffd:bench/profile_step.py`, retired, showed the static step's operators.)
"""

import argparse
import collections
import glob
import json
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()  # before Paddle loads: MKL's code path on AMD, Paddle's log kept quiet
import numpy as np  # noqa: E402
import paddle  # noqa: E402
import paddle.profiler as profiler  # noqa: E402
from steps import describe  # noqa: E402
from steps import StepTimer, alternately, ms_per_call, random_batch, ratio_summary  # noqa: E402
from recognize_digits import models, training  # noqa: E402

def paddle_operators_per_step(name, ema_decay, steps=10):
    paddle.seed(0)
    step = StepTimer(models.build(name), random_batch(), ema_decay=ema_decay, warm_up=3).step
    with tempfile.TemporaryDirectory() as tmp:
        prof = profiler.Profiler(targets=[profiler.ProfilerTarget.CPU],
                                 on_trace_ready=profiler.export_chrome_tracing(tmp))
        prof.start()
        for _ in range(steps):
            step()
            prof.step()
        prof.stop()
        with open(glob.glob(os.path.join(tmp, "*.json"))[0]) as f:
            events = json.load(f)["traceEvents"]
    names = collections.Counter(e["name"].split("[")[0].replace(" dygraph", "")
                                for e in events if e.get("cat") == "Operator")
    return sum(names.values()) / steps, names


def torch_operators_per_step(name, steps=10):
    import torch
    from pytorch_reference import NETWORKS

    net = NETWORKS[name]()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    images, labels = next(random_batch())  # the same batch as Paddle's
    x, y = torch.from_numpy(images.numpy()), torch.from_numpy(labels.numpy())

    def step():
        loss = torch.nn.functional.cross_entropy(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    def outermost(event):  # an aten:: operator not called from within another
        parent = event.cpu_parent
        return event.name.startswith("aten::") and not (parent and parent.name.startswith("aten::"))

    events = prof.events()
    backward = [e for e in events if e.name.startswith("autograd::engine::evaluate_function")]
    return (sum(outermost(e) and "evaluate_function" not in str(e.cpu_parent and e.cpu_parent.name)
                for e in events) + len(backward)) / steps


def to_static_runs(name):
    """Timers of the step with the forward pass and cost in the dynamic graph and by to_static."""
    runs = {}
    for how, forward in (("dynamic graph", training.train_program),
                         ("to_static", paddle.jit.to_static(training.train_program,
                                                            full_graph=True))):
        paddle.seed(0)
        runs[how] = StepTimer(models.build(name), random_batch(), forward=forward)
    return runs


def adam_runs(name):
    """Timers of the step with one adam_ per parameter (False) and one merged_adam_ (True)."""
    runs = {}
    for multi_tensor in (False, True):
        paddle.seed(0)
        model = models.build(name)
        optimizer = paddle.optimizer.Adam(0.001, parameters=model.parameters(),
                                          use_multi_tensor=multi_tensor)
        runs[multi_tensor] = StepTimer(model, random_batch(), optimizer=optimizer)
    return runs


def ema_update_ms(model, repeats=300):
    weights = [v for v in model.state_dict().values() if v.dtype == paddle.float32]
    average = [w.detach().clone() for w in weights]
    flat = paddle.concat([w.flatten() for w in weights])
    ema = training.ExponentialMovingAverage(model, 0.999)
    d = 0.99

    @paddle.no_grad()
    def with_lerp():
        for a, w in zip(average, weights):
            a.lerp_(w, 1 - d)

    @paddle.no_grad()
    def with_flat_buffer():
        flat.scale_(d).add_(paddle.concat([w.flatten() for w in weights]) * (1 - d))

    return {"ExponentialMovingAverage.update (scale_ + add_)":
            ms_per_call(ema.update, repeats, 10),
            "lerp_": ms_per_call(with_lerp, repeats, 10),
            "one flat buffer": ms_per_call(with_flat_buffer, repeats, 10)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="mlp", choices=list(models.MODELS))
    args = parser.parse_args()
    name = args.model
    print(f"Machine: {describe()}\n")

    print(f"1. Operators per training step of {name} (forward, backward, Adam)")
    plain, _ = paddle_operators_per_step(name, 0)
    with_ema, names = paddle_operators_per_step(name, 0.999)
    print(f"   Paddle  {plain:5.0f}; with the moving average's update {with_ema:5.0f}")
    print(f"           {', '.join(f'{n} {c // 10}' for n, c in names.most_common())}")
    try:
        print(f"   PyTorch {torch_operators_per_step(name):5.0f} (outermost aten:: operators, "
              f"gradient nodes counted as one each)")
    except ImportError:
        print("   PyTorch is not installed")

    print("\n2. Adam: one adam_ per parameter against one merged_adam_ (use_multi_tensor=True)")
    speeds = alternately(adam_runs(name), 300 if name != "cnn" else 30, rounds=5)
    print(f"   adam_ per parameter {statistics.median(speeds[False]):9,.0f} images/s, merged_adam_ "
          f"{statistics.median(speeds[True]):9,.0f}: x{ratio_summary(speeds[True], speeds[False])}")
    weights = {}
    for multi, timer in adam_runs(name).items():  # fresh, equal weights; 30 steps each way
        for _ in range(30 - 5):  # the timer's 5 warm-up steps are the first 5
            timer.step()
        weights[multi] = [p.numpy() for p in timer.model.parameters()]
    difference = max(float(np.abs(a - b).max()) for a, b in zip(weights[False], weights[True]))
    print(f"   largest difference of the weights after 30 steps: {difference:.1e}")

    print("\n3. The moving average's update alone, ms")
    paddle.seed(0)
    model = models.build(name)
    step_ms = 64 / statistics.median(speeds[True]) * 1000
    for how, ms in ema_update_ms(model).items():
        print(f"   {how:48s} {ms:.3f} ms ({ms / step_ms:.0%} of a step without it)")

    print("\n4. The forward pass and cost by paddle.jit.to_static, against the dynamic graph")
    speeds = alternately(to_static_runs(name), 300 if name != "cnn" else 30, rounds=5)
    print(f"   dynamic graph {statistics.median(speeds['dynamic graph']):9,.0f} images/s, "
          f"to_static {statistics.median(speeds['to_static']):9,.0f}: "
          f"x{ratio_summary(speeds['to_static'], speeds['dynamic graph'])}")


if __name__ == "__main__":
    main()
