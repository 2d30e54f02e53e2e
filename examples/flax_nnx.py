"""A Flax NNX train step with mixjax: a small CNN on scikit-learn's digits, mixed in the step.

    python examples/flax_nnx.py [--steps 300] [--mixup_alpha 0.4]

The model is an `nnx.Module`, the optimiser an `nnx.Optimizer` over its `nnx.Param`s, and the
step an `nnx.jit` function that one-hot encodes the labels, mixes the batch with
`mixjax.mixup_or_cutmix` (one key per step, folded from one base key) and takes optax's
cross-entropy on the mixed soft targets. Needs the `train` extra (flax, optax, scikit-learn).
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from sklearn.datasets import load_digits

import mixjax

NUM_CLASSES = 10


class CNN(nnx.Module):
  """Two 3x3 convolutions and a linear classifier, for [B, 8, 8, 1] images."""

  def __init__(self, num_classes: int, *, rngs: nnx.Rngs):
    self.conv1 = nnx.Conv(1, 16, kernel_size=(3, 3), rngs=rngs)
    self.conv2 = nnx.Conv(16, 32, kernel_size=(3, 3), rngs=rngs)
    self.head = nnx.Linear(8 * 8 * 32, num_classes, rngs=rngs)

  def __call__(self, x: jax.Array) -> jax.Array:
    x = nnx.relu(self.conv1(x))
    x = nnx.relu(self.conv2(x))
    return self.head(x.reshape(x.shape[0], -1))


@nnx.jit
def train_step(model, optimizer, images, labels, key, mixup_alpha):
  targets = mixjax.one_hot(labels, NUM_CLASSES)
  images, targets = mixjax.mixup_or_cutmix(
    key, images, targets, mixup_alpha=mixup_alpha, cutmix_alpha=1.0, mode="elem"
  )

  def loss_fn(model):
    return optax.softmax_cross_entropy(model(images), targets).mean()

  loss, grads = nnx.value_and_grad(loss_fn)(model)
  optimizer.update(model, grads)
  return loss


@nnx.jit
def accuracy(model, images, labels):
  return (model(images).argmax(-1) == labels).mean()


def load_data(seed: int):
  """Digits as float32 [N, 8, 8, 1] in [0, 1], split 1,347 train / 450 test."""
  digits = load_digits()
  images = (digits.images / 16.0).astype(np.float32)[..., None]
  order = np.random.default_rng(seed).permutation(len(images))
  train, test = order[:1347], order[1347:]
  return (images[train], digits.target[train]), (images[test], digits.target[test])


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--steps", type=int, default=300)
  parser.add_argument("--batch_size", type=int, default=64)
  parser.add_argument("--mixup_alpha", type=float, default=0.4)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()

  (x_train, y_train), (x_test, y_test) = load_data(args.seed)
  model = CNN(NUM_CLASSES, rngs=nnx.Rngs(args.seed))
  optimizer = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)
  base_key = jax.random.key(args.seed)
  rng = np.random.default_rng(args.seed)
  losses = []
  for step in range(args.steps):
    idx = rng.choice(len(x_train), args.batch_size, replace=False)
    key = jax.random.fold_in(base_key, step)
    loss = train_step(model, optimizer, x_train[idx], y_train[idx], key, args.mixup_alpha)
    losses.append(float(loss))
  test_accuracy = float(accuracy(model, jnp.asarray(x_test), jnp.asarray(y_test)))
  head, tail = np.mean(losses[:20]), np.mean(losses[-20:])
  print(f"mixed train loss: first 20 steps {head:.3f}, last 20 steps {tail:.3f}")
  print(f"RESULT first_loss={head:.4f} last_loss={tail:.4f} test_accuracy={test_accuracy:.4f}")


if __name__ == "__main__":
  main()
