"""Training and evaluation: the chapter's `train_program`, `optimizer_program` and `train_test`.

The chapter builds these as static programs run by an executor. In Paddle 3's dynamic graph they
are plain functions: a forward pass that returns the cost, Adam stepping on its gradients, and a
test loop. The loops take numpy batches (see data.batches) and know nothing of the command line,
the log or the progress bar: train.py wraps them in those.
"""

import math

import numpy as np
import paddle
import paddle.nn.functional as F

from recognize_digits import RecognizeDigitsError, distributed


class DivergedError(RecognizeDigitsError):
    """The training cost became NaN or infinite (a learning rate far too high, usually)."""


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
    """The chapter's optimizer_program: Adam with learning rate 0.001."""
    return paddle.optimizer.Adam(learning_rate=learning_rate, parameters=parameters)


def train_epoch(model, optimizer, batches, event_handler=None):
    """One pass over `batches` of (images, labels) numpy arrays, one Adam step per batch.

    After each step `event_handler(step, avg_cost)` is called with the step's mean cost as a
    tensor: reading its value waits for the device, so the handler reads it only when it logs.
    """
    model.train()
    for step, (images, labels) in enumerate(batches):
        avg_cost, _ = train_program(model, paddle.to_tensor(images), paddle.to_tensor(labels),
                                    with_accuracy=False)
        avg_cost.backward()
        optimizer.step()
        optimizer.clear_grad()
        if event_handler is not None:
            event_handler(step, avg_cost)


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
        total_cost, total_correct, total = distributed.all_sum([total_cost, total_correct, total],
                                                               world)
    return total_cost / total, total_correct / total


def check_finite(cost, epoch, step):
    """Stop with DivergedError if the cost is NaN or infinite."""
    if not math.isfinite(cost):
        raise DivergedError(
            f"the training cost became {cost} at epoch {epoch}, batch {step}: training diverged. "
            f"Try a smaller learning rate (--lr; the chapter uses 0.001)."
        )


@paddle.no_grad()
def predict(model, images, batch_size=1000):
    """Probabilities [N, 10] of the model (logits -> softmax) on float32 images [N, 1, 28, 28]."""
    model.eval()
    out = [F.softmax(model(paddle.to_tensor(images[i : i + batch_size]))).numpy()
           for i in range(0, len(images), batch_size)]
    return np.concatenate(out)
