"""Training and evaluation: the chapter's `train_program`, `optimizer_program` and `train_test`.

The chapter builds these as static programs run by an executor. In Paddle 3's dynamic graph they
are plain functions: a forward pass that returns the cost, Adam stepping on its gradients, and a
test loop. They take numpy batches (readers.py) and know nothing of the command line or the log:
train.py's training loop calls them, as the chapter's trainer does.
"""

import contextlib
import math

import numpy as np
import paddle
import paddle.nn.functional as F

from recognize_digits import RecognizeDigitsError


class DivergedError(RecognizeDigitsError):
    """The training cost became NaN or infinite (a learning rate far too high, usually)."""

    def kept(self, best, save_dir):
        """The same error, saying which earlier pass is still kept as the inference model."""
        if best is None:
            return self
        return DivergedError(f"{self} The best model so far (pass {best['epoch']}) is kept in "
                             f"{save_dir}.")


def train_program(model, images, labels, with_accuracy=True):
    """The chapter's train_program: cross-entropy cost, its mean over the batch, and accuracy.

    `images` float32 [N, 1, 28, 28], `labels` int64 [N]. Returns (avg_cost, acc), 0-d tensors.
    The training loop never reads acc: `with_accuracy=False` skips it (acc is None), which saves
    a sixth of a softmax regression step.
    """
    predict = model(images)
    cost = F.cross_entropy(predict, labels)  # softmax + log fused; the mean over the batch
    if not with_accuracy:
        return cost, None
    return cost, paddle.metric.accuracy(predict, labels.unsqueeze(-1))


def optimizer_program(parameters, learning_rate=0.001):
    """The chapter's optimizer_program: Adam with learning rate 0.001.

    `use_multi_tensor=True` updates all the parameters in one call (`merged_adam_`) instead of
    one `adam_` call each: the same update, up to float rounding, and faster on a CPU for the
    small models (docs/speed.md, "What made training faster").
    """
    return paddle.optimizer.Adam(learning_rate=learning_rate, parameters=parameters,
                                 use_multi_tensor=True)


class ExponentialMovingAverage:
    """A running average of the model's weights over the last steps: what is tested and exported.

    At a fixed learning rate, Adam's steps keep the weights jittering around a good solution; the
    average of the last few hundred steps lies nearer its middle and tests better (Polyak
    averaging). Fluid had this as `fluid.optimizer.ExponentialMovingAverage`, used the same way:
    `update()` after every optimizer step, `with ema.apply():` around testing and saving. Training
    itself carries on from the weights as trained.

    Each update moves the average a fraction 1 - d towards the weights, with
    d = min(decay, (1 + steps) / (10 + steps)): Fluid's `thres_steps` warm-up, so that the average
    is never mostly the random initial weights. Until d reaches `decay` (step 8,991 for 0.999;
    the chapter's 5 epochs are 4,690 steps) the average's mean age is a ninth of the steps taken
    so far; after, about 1 / (1 - decay) steps. Batch norm's running mean and variance are averaged
    too, to go with the averaged weights. `decay=0` turns it off: `apply()` then changes nothing.
    """

    def __init__(self, model, decay=0.999):
        self.decay, self.steps = decay, 0
        self.weights = {name: value for name, value in model.state_dict().items()
                        if value.dtype == paddle.float32}
        self.average = {name: value.detach().clone() for name, value in self.weights.items()}

    @paddle.no_grad()
    def update(self):
        if not self.decay:
            return
        self.steps += 1
        d = min(self.decay, (1 + self.steps) / (10 + self.steps))
        for name, value in self.weights.items():  # average = d * average + (1 - d) * value
            self.average[name].scale_(d).add_(value * (1 - d))  # 2.4x faster than lerp_ here

    @contextlib.contextmanager
    def apply(self):
        """Put the averages into the model for the `with` block, the trained weights back after."""
        if not self.decay:
            yield
            return
        trained = {name: value.detach().clone() for name, value in self.weights.items()}
        self._copy_into_model(self.average)
        try:
            yield
        finally:
            self._copy_into_model(trained)

    def _copy_into_model(self, values):
        for name, value in self.weights.items():
            value.set_value(values[name])

    def state_dict(self):
        return {"steps": self.steps, "average": self.average}

    def set_state_dict(self, state):
        self.steps = state["steps"]
        for name, value in state["average"].items():
            self.average[name].set_value(value)


@paddle.no_grad()
def train_test(model, batches, world=1):
    """The chapter's train_test: mean cost and accuracy over every image of `batches`.

    Both are exact over the whole set, each batch weighted by its number of images (the last
    batch may be short), not a mean of batch means. With `world` > 1 processes, each passes its
    own share of the test set and the sums are added up over all of them. Returns (avg_cost,
    acc) as Python floats.
    """
    model.eval()
    total_cost = 0.0
    total_correct = total = 0
    for images, labels in batches:
        avg_cost, acc = train_program(model, paddle.to_tensor(images), paddle.to_tensor(labels))
        n = len(labels)
        total_cost += float(avg_cost) * n
        total_correct += round(float(acc) * n)  # a count: exact, whatever float32 made of acc
        total += n
    if world > 1:
        total_cost, total_correct, total = all_sum([total_cost, total_correct, total], world)
    return total_cost / total, total_correct / total


def check_finite(cost, epoch, step=None):
    """`cost`, or DivergedError if it is NaN or infinite (the test cost when `step` is None)."""
    if not math.isfinite(cost):
        where = f"the test cost became {cost} after epoch {epoch}" if step is None else \
            f"the training cost became {cost} at epoch {epoch}, batch {step}"
        raise DivergedError(f"{where}: training diverged. Try a smaller learning rate (--lr; the "
                            f"chapter uses 0.001).")
    return cost


def all_sum(values, world):
    """Sum a list of numbers over all `world` processes (the numbers themselves when alone)."""
    if world == 1:
        return list(values)
    import paddle.distributed as dist  # only under paddle.distributed.launch

    tensor = paddle.to_tensor(np.asarray(values, dtype=np.float64))
    dist.all_reduce(tensor)
    return tensor.numpy().tolist()


@paddle.no_grad()
def probabilities(model, images, batch_size=1000):
    """Probabilities [N, 10] of the model (logits -> softmax) on float32 images [N, 1, 28, 28]."""
    model.eval()
    out = [F.softmax(model(paddle.to_tensor(images[i : i + batch_size]))).numpy()
           for i in range(0, len(images), batch_size)]
    return np.concatenate(out)
