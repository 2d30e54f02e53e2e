"""Semantic segmentation with CutMix on dense labels: synthetic shapes, a tiny conv net.

Each image is a noisy background (class 0) with a square (class 1) and a disc (class 2) at
random places, every class painted in its own colour. `mixjax.cutmix` pastes the same box
into the images and into their integer class maps, so every pasted pixel keeps its class;
a per-pixel softmax cross-entropy (optax) trains a three-layer conv net (Flax) on the
mixed batches. Runs on CPU in a few seconds:

  python examples/segmentation.py
  python examples/segmentation.py --steps=300 --image_size=24

Needs the `train` extra (flax, optax, absl).
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import app
from absl import flags

import mixjax

PALETTE = np.array([[0.1, 0.1, 0.1], [0.9, 0.2, 0.2], [0.2, 0.3, 0.9]], np.float32)
NUM_CLASSES = len(PALETTE)
NOISE = 0.08  # Colour noise per pixel: below half the distance between two palette colours.

_STEPS = flags.DEFINE_integer("steps", 150, "training steps")
_BATCH = flags.DEFINE_integer("batch_size", 32, "images per step")
_SIZE = flags.DEFINE_integer("image_size", 16, "side of the square images")
_SEED = flags.DEFINE_integer("seed", 0, "the one seed")


def synthetic_batch(key: jax.Array, batch_size: int, size: int):
  """Images `[B, S, S, 3]` in [0, 1] and their integer class maps `[B, S, S]`."""
  key_sq, key_disc, key_noise = jax.random.split(key, 3)
  rows, cols = jnp.meshgrid(jnp.arange(size), jnp.arange(size), indexing="ij")
  side = size // 3
  corner = jax.random.randint(key_sq, (batch_size, 2, 1, 1), 0, size - side)
  square = (rows >= corner[:, 0]) & (rows < corner[:, 0] + side)
  square &= (cols >= corner[:, 1]) & (cols < corner[:, 1] + side)
  centre = jax.random.uniform(key_disc, (batch_size, 2, 1, 1), minval=0, maxval=size)
  disc = (rows - centre[:, 0]) ** 2 + (cols - centre[:, 1]) ** 2 < (size / 5) ** 2
  maps = jnp.where(disc, 2, jnp.where(square, 1, 0)).astype(jnp.int32)
  noise = jax.random.uniform(key_noise, maps.shape + (3,), minval=-NOISE, maxval=NOISE)
  return jnp.asarray(PALETTE)[maps] + noise, maps


def classes_of_pixels(images: jax.Array) -> jax.Array:
  """The class each pixel's colour names (the nearest palette colour), `[B, S, S]`."""
  distance = jnp.sum((images[..., None, :] - jnp.asarray(PALETTE)) ** 2, axis=-1)
  return jnp.argmin(distance, axis=-1)


class TinySegmenter(nn.Module):
  """Three 3x3 convolutions to per-pixel logits `[B, S, S, K]`."""

  features: int = 16

  @nn.compact
  def __call__(self, x):
    x = nn.relu(nn.Conv(self.features, (3, 3))(x))
    x = nn.relu(nn.Conv(self.features, (3, 3))(x))
    return nn.Conv(NUM_CLASSES, (3, 3))(x)


def train_step(state, key, *, model, optimizer, batch_size, size):
  """Draws a batch, CutMixes images and class maps with one box each, takes a step."""
  params, opt_state = state
  key_data, key_mix = jax.random.split(key)
  images, maps = synthetic_batch(key_data, batch_size, size)
  images, maps = mixjax.cutmix(key_mix, images, maps, mode="elem")

  def loss_fn(p):
    logits = model.apply(p, images)
    return optax.softmax_cross_entropy_with_integer_labels(logits, maps).mean()

  loss, grads = jax.value_and_grad(loss_fn)(params)
  updates, opt_state = optimizer.update(grads, opt_state, params)
  return (optax.apply_updates(params, updates), opt_state), loss


def train(steps: int, batch_size: int, size: int, seed: int = 0):
  """Trains the segmenter; returns the losses and the pixel accuracy on fresh images."""
  key = jax.random.key(seed)
  model, optimizer = TinySegmenter(), optax.adam(1e-2)
  params = model.init(jax.random.fold_in(key, 0), jnp.zeros((1, size, size, 3)))
  step = jax.jit(
    functools.partial(
      train_step, model=model, optimizer=optimizer, batch_size=batch_size, size=size
    )
  )
  state, losses = (params, optimizer.init(params)), []
  for i in range(steps):
    state, loss = step(state, jax.random.fold_in(jax.random.fold_in(key, 1), i))
    losses.append(float(loss))
  images, maps = synthetic_batch(jax.random.fold_in(key, 2), batch_size, size)
  predicted = jnp.argmax(model.apply(state[0], images), axis=-1)
  return np.asarray(losses), float(jnp.mean(predicted == maps))


def main(argv):
  del argv
  losses, accuracy = train(_STEPS.value, _BATCH.value, _SIZE.value, _SEED.value)
  tenth = max(1, len(losses) // 10)
  print(f"loss: first {tenth} steps {losses[:tenth].mean():.3f}, last {losses[-tenth:].mean():.3f}")
  print(f"pixel accuracy on fresh images: {accuracy:.3f}")


if __name__ == "__main__":
  app.run(main)
