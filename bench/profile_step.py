"""Where a LeNet-5 training step spends its time, operator by operator (paddle.profiler).

    python bench/profile_step.py                 # LeNet-5 as built now (models.SimpleImgConvPool)
    python bench/profile_step.py --first-built   # from plain nn.Conv2D, nn.ReLU, nn.MaxPool2D
    python bench/profile_step.py --model mlp     # the multilayer perceptron (or softmax)
    python bench/profile_step.py --to-static     # forward and cost by paddle.jit.to_static

Profiles 20 steps of 64 images (forward, backward, Adam) after 5 of warm-up and prints each
operator's share of the step, forward and gradient apart, largest first.
"""

import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from recognize_digits.run.environment import prepare_paddle  # noqa: E402

prepare_paddle()  # before Paddle loads: MKL's code path on AMD, Paddle's log kept quiet
import paddle  # noqa: E402
import paddle.profiler as profiler  # noqa: E402
from machine import describe  # noqa: E402
from steps import StepTimer, random_batch  # noqa: E402
from recognize_digits import models, training  # noqa: E402
from speed import lenet_as_first_built  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--first-built", action="store_true",
                        help="profile LeNet-5 with paddle.nn.Conv2D, as first built")
    parser.add_argument("--model", default="cnn", choices=list(models.MODELS))
    parser.add_argument("--to-static", action="store_true",
                        help="the forward pass and cost as one static program "
                             "(paddle.jit.to_static), run by Paddle's executor")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()

    paddle.seed(0)
    model = lenet_as_first_built() if args.first_built else models.build(args.model)
    optimizer = training.optimizer_program(model.parameters())
    forward = training.train_program
    if args.to_static:
        forward = paddle.jit.to_static(training.train_program, full_graph=True)
    step = StepTimer(model, random_batch(), optimizer=optimizer, forward=forward).step  # 5 warm-up
    with tempfile.TemporaryDirectory() as tmp:
        prof = profiler.Profiler(targets=[profiler.ProfilerTarget.CPU],
                                 on_trace_ready=profiler.export_chrome_tracing(tmp))
        prof.start()
        for _ in range(args.steps):
            step()
            prof.step()
        prof.stop()
        # The per-operator table, without the profiler's own chatter around it.
        prof.summary(sorted_by=profiler.SortedKeys.CPUTotal, op_detail=False, thread_sep=False,
                     time_unit="ms", views=[profiler.SummaryView.OperatorView])
    what = "LeNet-5 as first built (nn layers)" if args.first_built else \
        models.CHAPTER_NAMES[args.model]
    print(f"{what}{', to_static' if args.to_static else ''}, {args.steps} steps of 64 on "
          f"{describe()}")


if __name__ == "__main__":
    main()
