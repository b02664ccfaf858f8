"""The "Recognize Digits" chapter of the PaddlePaddle book (MNIST) on Paddle 3.

Importing this package first quiets the framework, so that a user sees our output and not
Paddle's: its C++ log (glog) and a few Python warnings it raises on import or on every
training step that say nothing actionable to a learner.
"""

import os
import warnings

# glog reads these when paddle's core library loads: keep only errors. setdefault, so a user
# who wants the framework's log can still ask for it (GLOG_v=3 python train.py ...).
os.environ.setdefault("GLOG_minloglevel", "2")

for message in (
    "No ccache found",  # raised by `import paddle` (C++ extension tooling we never use)
    "When training, we now always track global mean and variance",  # every BatchNorm step
):
    warnings.filterwarnings("ignore", message=message)


class RecognizeDigitsError(Exception):
    """A problem the user can fix (missing data, bad image, bad flag).

    The scripts print its message as one line on stderr and exit non-zero, without a traceback.
    """
