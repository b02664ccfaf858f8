"""The chapter's three networks in PyTorch, layer for layer as recognize_digits/models.py, for the
side-by-side comparisons of bench/speed.py and bench/pytorch_reference.py."""

from torch import nn

NETWORKS = {
    "softmax": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 10)),
    "mlp": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 200), nn.ReLU(),
                                 nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10)),
    "cnn": lambda: nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
                                 nn.BatchNorm2d(20), nn.Conv2d(20, 50, 5), nn.ReLU(),
                                 nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(800, 10)),
}
