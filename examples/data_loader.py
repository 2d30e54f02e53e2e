"""NumPy batches from a PyTorch-style data loader, mixed on the device.

    python examples/data_loader.py [--epochs 3] [--batch_size 64]

`BlobImages` is a map-style dataset (`__getitem__` / `__len__`, one example at a time, as
`torch.utils.data.Dataset`); `DataLoader` shuffles, batches and collates with `np.stack`, as
`torch.utils.data.DataLoader` does (a torch loader with `collate_fn=numpy_collate` works the
same; torch is not needed here). The host only produces uint8 images and int labels: the
conversion to float, the one-hot targets and CutMix run inside the jitted step, on the
device. Needs jax, optax and numpy only.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import optax

import mixjax

NUM_CLASSES = 4
SIZE = 16


class BlobImages:
  """[16, 16, 1] uint8 images of one bright blob whose quadrant is the class."""

  def __init__(self, length: int, seed: int):
    self.length = length
    self.seed = seed

  def __len__(self) -> int:
    return self.length

  def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
    if not 0 <= index < self.length:
      raise IndexError(index)
    rng = np.random.default_rng((self.seed, index))
    label = int(rng.integers(NUM_CLASSES))
    centre = np.array([label // 2, label % 2]) * SIZE / 2 + SIZE / 4 + rng.normal(0, 1.5, 2)
    rows, cols = np.mgrid[:SIZE, :SIZE]
    blob = np.exp(-((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2) / 8.0)
    noisy = blob + rng.normal(0.0, 0.2, blob.shape)
    return (np.clip(noisy, 0, 1) * 255).astype(np.uint8)[..., None], label


def numpy_collate(examples: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
  images, labels = zip(*examples, strict=True)
  return np.stack(images), np.asarray(labels, np.int32)


class DataLoader:
  """Shuffled fixed-size batches of a map-style dataset (the last partial batch dropped)."""

  def __init__(self, dataset, batch_size: int, *, shuffle: bool = True, seed: int = 0):
    self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle
    self.rng = np.random.default_rng(seed)

  def __len__(self) -> int:
    return len(self.dataset) // self.batch_size

  def __iter__(self):
    order = self.rng.permutation(len(self.dataset)) if self.shuffle else range(len(self.dataset))
    order = np.asarray(order)
    for start in range(0, len(self) * self.batch_size, self.batch_size):
      yield numpy_collate([self.dataset[int(i)] for i in order[start : start + self.batch_size]])


def logits_fn(params: dict[str, jax.Array], images: jax.Array) -> jax.Array:
  return images.reshape(images.shape[0], -1) @ params["w"] + params["b"]


def make_step(optimizer: optax.GradientTransformation):
  @jax.jit
  def step(params, opt_state, images_uint8, labels, key):
    images = images_uint8.astype(jnp.float32) / 255.0  # On the device.
    targets = mixjax.one_hot(labels, NUM_CLASSES)
    images, targets = mixjax.cutmix(key, images, targets, alpha=1.0, mode="elem")

    def loss_fn(p):
      return optax.softmax_cross_entropy(logits_fn(p, images), targets).mean()

    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  return step


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--epochs", type=int, default=3)
  parser.add_argument("--batch_size", type=int, default=64)
  parser.add_argument("--train_size", type=int, default=2048)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()

  loader = DataLoader(BlobImages(args.train_size, seed=args.seed), args.batch_size, seed=0)
  test_set = BlobImages(512, seed=args.seed + 1)
  test_images, test_labels = numpy_collate([test_set[i] for i in range(len(test_set))])
  params = {"w": jnp.zeros((SIZE * SIZE, NUM_CLASSES)), "b": jnp.zeros(NUM_CLASSES)}
  optimizer = optax.sgd(0.5, momentum=0.9)
  opt_state = optimizer.init(params)
  step, base_key, losses = make_step(optimizer), jax.random.key(args.seed), []
  for epoch in range(args.epochs):
    for i, (images, labels) in enumerate(loader):
      key = jax.random.fold_in(base_key, epoch * len(loader) + i)
      params, opt_state, loss = step(params, opt_state, images, labels, key)
      losses.append(float(loss))
  test_float = jnp.asarray(test_images, jnp.float32) / 255.0
  test_accuracy = float((logits_fn(params, test_float).argmax(-1) == test_labels).mean())
  head, tail = np.mean(losses[:10]), np.mean(losses[-10:])
  print(f"{len(losses)} batches of {args.batch_size}; mixed loss {head:.3f} -> {tail:.3f}")
  print(f"RESULT first_loss={head:.4f} last_loss={tail:.4f} test_accuracy={test_accuracy:.4f}")


if __name__ == "__main__":
  main()
