"""NumPy references and test batches shared by the op tests.

The references rebuild what an op must compute by slicing and loops, independently of the
ops' iota masks and fused selects.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import mixjax


def bits(x) -> np.ndarray:
  """The raw bits of an array, so that -0.0 != 0.0 and NaN == NaN."""
  x = np.asarray(x)
  return x.view(np.dtype(f"u{x.dtype.itemsize}"))


def box_masks(boxes, batch_size: int, height: int, width: int) -> np.ndarray:
  """Boolean `[B, H, W]`: True inside each example's half-open box (clipped), by slicing."""
  boxes = np.broadcast_to(np.asarray(boxes), (batch_size, 4))
  masks = np.zeros((batch_size, height, width), bool)
  for i, (top, left, bottom, right) in enumerate(boxes):
    masks[i, max(top, 0) : min(bottom, height), max(left, 0) : min(right, width)] = True
  return masks


def grid_masks(grid, height: int, width: int) -> np.ndarray:
  """Boolean `[B, H, W]`, stripe by stripe: the dropped squares are where a dropped row band
  meets a dropped column band; bands of `drop` pixels start every `unit` pixels at `-offset`."""
  masks = []
  for unit, drop, offset_y, offset_x in np.asarray(grid).reshape(-1, 4):
    rows, cols = np.zeros(height, bool), np.zeros(width, bool)
    for start in range(-offset_y, height, max(unit, 1)):
      rows[max(start, 0) : max(start + drop, 0)] = True
    for start in range(-offset_x, width, max(unit, 1)):
      cols[max(start, 0) : max(start + drop, 0)] = True
    masks.append(rows[:, None] & cols[None, :])
  return np.stack(masks)


def blend(x, lam, partner) -> np.ndarray:
  """`λ_i·x_i + (1-λ_i)·x_partner(i)` in float64 NumPy."""
  x = np.asarray(x, np.float64)
  lam = np.broadcast_to(np.asarray(lam, np.float64), partner.shape)
  lam = lam.reshape(lam.shape + (1,) * (x.ndim - 1))
  return lam * x + (1.0 - lam) * x[partner]


def mix(images, labels, params):
  """A mix rebuilt in float64: blend outside the box, partner inside, exact label weight.

  Returns:
    `(images, labels, masks)`, masks the boolean `[B, H, W]` pasted regions.
  """
  x = np.asarray(images, np.float64)
  y = np.asarray(labels, np.float64)
  batch_size, height, width = x.shape[:3]
  partner = np.asarray(params.partner)
  lam = np.broadcast_to(np.asarray(params.lam, np.float64), (batch_size,))
  masks = box_masks(params.box, batch_size, height, width)
  out = np.where(masks[..., None], x[partner], blend(x, lam, partner))
  weight = lam * (1 - masks.sum((1, 2)) / (height * width))
  return out, weight[:, None] * y + (1 - weight[:, None]) * y[partner], masks


def random_batch(batch_size, height, width, channels=3, num_classes=5, seed=0):
  """Uniform `[B, H, W, C]` images and one-hot labels."""
  key_x, key_y = jax.random.split(jax.random.key(seed))
  images = jax.random.uniform(key_x, (batch_size, height, width, channels))
  labels = mixjax.one_hot(jax.random.randint(key_y, (batch_size,), 0, num_classes), num_classes)
  return images, labels


def constant_batch(batch_size, height, width, channels=2):
  """Image i is filled with i + 1 and labelled class i, so every pixel names its source."""
  values = jnp.arange(1.0, batch_size + 1.0)
  images = jnp.broadcast_to(values[:, None, None, None], (batch_size, height, width, channels))
  return images, mixjax.one_hot(jnp.arange(batch_size), batch_size)


def check_pixels_and_label_weights(out_x, out_y, partner):
  """Checks the CutMix contract on a :func:`constant_batch` output.

  Every pixel of output i comes from image i or its partner, and the weight of label i
  is the fraction of pixels still equal to image i: `round(w·H·W)` is that count exactly
  and `w` is within one float32 ulp of count / (H·W).
  """
  out_x, out_y = np.asarray(out_x), np.asarray(out_y)
  batch_size, height, width = out_x.shape[:3]
  own_value = np.arange(1.0, batch_size + 1.0)[:, None, None, None]
  from_self = out_x == own_value
  from_partner = out_x == own_value[partner]
  assert np.all(from_self | from_partner)
  moved = partner != np.arange(batch_size)
  kept = from_self[..., 0].sum((1, 2))[moved]
  weight = out_y[np.arange(batch_size), np.arange(batch_size)][moved]
  np.testing.assert_array_equal(np.rint(weight * height * width), kept)
  np.testing.assert_array_max_ulp(weight, (kept / (height * width)).astype(np.float32), maxulp=1)
  np.testing.assert_allclose(out_y[moved, partner[moved]], 1 - weight, atol=1e-6)
  np.testing.assert_allclose(out_y.sum(-1), np.ones(batch_size), atol=1e-6)


def images_in_1_2(seed: int = 0, shape=(6, 16, 12, 3), dtype=jnp.float32) -> jax.Array:
  """Images with values in [1, 2): never equal to the constant fills the tests use (0, -1)."""
  x = 1.0 + jax.random.uniform(jax.random.key(seed), shape, jnp.float32)
  return x.astype(dtype)
