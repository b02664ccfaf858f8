"""Is it the framework? The chapter's networks and settings in plain PyTorch, same data.

    python bench/pytorch_reference.py --seeds 2

Same MNIST arrays and scaling (recognize_digits.data), same shuffle per epoch, Adam 0.001, batch
64, 5 epochs, best pass by test cost; PyTorch's own default initialisation. Needs PyTorch (not a
dependency of the project).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402
from steps import describe  # noqa: E402
from recognize_digits import data, readers  # noqa: E402
from recognize_digits.run import cli  # noqa: E402

# The chapter's three networks in PyTorch, layer for layer as recognize_digits/models.py; also
# for the side-by-side timings of bench/speed.py and bench/step_parts.py.
NETWORKS = {
    "softmax": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 10)),
    "mlp": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 200), nn.ReLU(),
                                 nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10)),
    "cnn": lambda: nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
                                 nn.BatchNorm2d(20), nn.Conv2d(20, 50, 5), nn.ReLU(),
                                 nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(800, 10)),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--models", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    images, labels = (torch.from_numpy(a) for a in data.load_mnist("train", args.data_dir))
    test_images, test_labels = (torch.from_numpy(a) for a in data.load_mnist("test", args.data_dir))
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads; {describe()}")
    for name in args.models:
        for seed in range(90, 90 + args.seeds):
            torch.manual_seed(seed)
            net = NETWORKS[name]()
            optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
            passes = []
            for epoch in range(5):
                net.train()
                order = torch.from_numpy(readers.epoch_permutation(len(labels), seed, epoch))
                for start in range(0, len(order), 64):
                    index = order[start : start + 64]
                    loss = F.cross_entropy(net(images[index]), labels[index])
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                net.eval()
                with torch.no_grad():
                    out = net(test_images)
                passes.append((F.cross_entropy(out, test_labels).item(),
                               (out.argmax(1) == test_labels).float().mean().item()))
            cost, acc = min(passes)
            print(f"{name:8s} seed {seed}: best pass {passes.index((cost, acc))}, test cost "
                  f"{cost:.4f}, accuracy {acc:.2%}", flush=True)


if __name__ == "__main__":
    sys.exit(cli.run(main))
