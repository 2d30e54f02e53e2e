"""Standard in-graph image augmentations: random crop with padding and horizontal flip.

These are the augmentations of the CIFAR recipes (pad by 4, random 32×32 crop, random
horizontal flip), written like the mixing ops so that they compile into the train step.
Each example gets its own parameters, drawn and applied vectorised over the batch. Unlike
the mixing ops they take images of any dtype (float32, bfloat16, uint8, ...), which is kept.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from mixjax import _checks

PAD_MODES = ("constant", "reflect")


def _check_crop(images: Any, padding: Any, pad_mode: str) -> tuple[int, int, int, int]:
  """Checks the arguments of a crop; returns the images' shape."""
  shape = _checks.check_rank4(images)
  _checks.check_int(padding, "padding", low=0)
  _checks.check_choice(pad_mode, "pad_mode", PAD_MODES)
  return shape


def pad_and_crop(
  images: jax.Array,
  offsets: jax.Array,
  *,
  padding: int = 4,
  pad_mode: str = "constant",
) -> jax.Array:
  """Pads every image by `padding` on each side and crops it back at a given offset.

  Output example i is the window `padded[i, t:t + H, l:l + W]` with `(t, l) = offsets[i]`,
  so offsets `(padding, padding)` give back the image itself.

  Args:
    images: `[B, H, W, C]`.
    offsets: integer `[B, 2]`, the `(top, left)` corner of each window in the padded
      image, each in `[0, 2 * padding]` (values outside are clamped to that range).
    padding: pixels added on each side, a non-negative Python int.
    pad_mode: `"constant"` (zeros) or `"reflect"` (mirror without repeating the edge, as
      `numpy.pad`).

  Returns:
    `[B, H, W, C]`, same dtype as `images`.
  """
  batch_size = _check_crop(images, padding, pad_mode)[0]
  _checks.check_array(offsets, "offsets", (batch_size, 2), "integer", " (top, left)")
  return _pad_and_crop(images, offsets, padding, pad_mode)


def _pad_and_crop(images: jax.Array, offsets: jax.Array, padding: int, pad_mode: str) -> jax.Array:
  if padding == 0:
    return images
  _, height, width, channels = jnp.shape(images)
  pad = ((0, 0), (padding, padding), (padding, padding), (0, 0))
  padded = jnp.pad(images, pad, mode=pad_mode)
  offsets = jnp.asarray(offsets, jnp.int32)

  def window(image: jax.Array, offset: jax.Array) -> jax.Array:
    start = (offset[0], offset[1], jnp.zeros((), jnp.int32))
    return jax.lax.dynamic_slice(image, start, (height, width, channels))

  return jax.vmap(window)(padded, offsets)


def sample_crop_offsets(key: jax.Array, batch_size: int, *, padding: int = 4) -> jax.Array:
  """Samples uniform crop offsets for :func:`pad_and_crop`.

  Args:
    key: a PRNG key.
    batch_size: B.
    padding: the padding of the crop, a non-negative Python int.

  Returns:
    int32 `[B, 2]` `(top, left)` offsets, each uniform on `{0, ..., 2 * padding}`.
  """
  _checks.check_key(key)
  _checks.check_batch_size(batch_size)
  _checks.check_int(padding, "padding", low=0)
  return _sample_crop_offsets(key, batch_size, padding)


def _sample_crop_offsets(key: jax.Array, batch_size: int, padding: int) -> jax.Array:
  return jax.random.randint(key, (batch_size, 2), 0, 2 * padding + 1, dtype=jnp.int32)


def random_crop(
  key: jax.Array,
  images: jax.Array,
  *,
  padding: int = 4,
  pad_mode: str = "constant",
) -> jax.Array:
  """Pads every image by `padding` and crops it back to `H×W` at a random offset.

  Each example draws its own offset, uniform over the `(2·padding + 1)²` windows.

  Args:
    key: a PRNG key; the same key gives the same output.
    images: `[B, H, W, C]` of any dtype.
    padding: pixels added on each side, a non-negative Python int (4 for CIFAR); 0
      returns the images unchanged.
    pad_mode: `"constant"` (zeros) or `"reflect"`.

  Returns:
    `[B, H, W, C]`, same dtype as `images`.

  Example:
    >>> images = mixjax.random_crop(key, images, padding=4)
  """
  _checks.check_key(key)
  _check_crop(images, padding, pad_mode)
  return _random_crop(key, images, padding, pad_mode)


def _random_crop(key: jax.Array, images: jax.Array, padding: int, pad_mode: str) -> jax.Array:
  offsets = _sample_crop_offsets(key, jnp.shape(images)[0], padding)
  return _pad_and_crop(images, offsets, padding, pad_mode)


def flip_left_right(images: jax.Array, flip: jax.Array) -> jax.Array:
  """Mirrors the images whose `flip` is True horizontally.

  Args:
    images: `[B, H, W, C]`.
    flip: bool `[B]`.

  Returns:
    `[B, H, W, C]`, same dtype as `images`.
  """
  batch_size = _checks.check_rank4(images)[0]
  _checks.check_array(flip, "flip", (batch_size,), "boolean")
  return _flip_left_right(images, flip)


def _flip_left_right(images: jax.Array, flip: jax.Array) -> jax.Array:
  return jnp.where(flip[:, None, None, None], jnp.flip(images, axis=2), images)


def random_flip(
  key: jax.Array,
  images: jax.Array,
  *,
  probability: jax.typing.ArrayLike = 0.5,
) -> jax.Array:
  """Mirrors each image horizontally with probability `probability`, independently.

  Args:
    key: a PRNG key; the same key gives the same output.
    images: `[B, H, W, C]` of any dtype.
    probability: chance that an image is flipped, a scalar in [0, 1]; may be traced
      (changing it does not recompile).

  Returns:
    `[B, H, W, C]`, same dtype as `images`.
  """
  _checks.check_key(key)
  _checks.check_rank4(images)
  _checks.check_probability(probability, "probability")
  return _random_flip(key, images, probability)


def _random_flip(key: jax.Array, images: jax.Array, probability: jax.typing.ArrayLike) -> jax.Array:
  batch_size = jnp.shape(images)[0]
  flip = jax.random.bernoulli(key, jnp.asarray(probability, jnp.float32), (batch_size,))
  return _flip_left_right(images, flip)


def random_crop_flip(
  key: jax.Array,
  images: jax.Array,
  *,
  padding: int = 4,
  pad_mode: str = "constant",
  probability: jax.typing.ArrayLike = 0.5,
) -> jax.Array:
  """The CIFAR augmentation: :func:`random_crop`, then :func:`random_flip`.

  `key` is split in two, `key_crop, key_flip = jax.random.split(key)`.

  Args:
    key: a PRNG key; the same key gives the same output.
    images: `[B, H, W, C]` of any dtype.
    padding: crop padding, a non-negative Python int.
    pad_mode: `"constant"` (zeros) or `"reflect"`.
    probability: flip probability in [0, 1].

  Returns:
    `[B, H, W, C]`, same dtype as `images`.

  Example:
    >>> images = mixjax.random_crop_flip(key, images)  # pad 4, crop, flip
  """
  _checks.check_key(key)
  _check_crop(images, padding, pad_mode)
  _checks.check_probability(probability, "probability")
  key_crop, key_flip = jax.random.split(key)
  images = _random_crop(key_crop, images, padding, pad_mode)
  return _random_flip(key_flip, images, probability)
