"""Random Erasing (Zhong et al. 2017): overwrite one random rectangle per image.

Conventions:

* A box is an int32 `(top, left, bottom, right)` rectangle, half-open: pixel (h, w) is
  erased iff `top <= h < bottom` and `left <= w < right`. The sampler returns `[B, 4]`,
  one row per example; an example that is not erased gets the empty box `(0, 0, 0, 0)`.
* Sampling (:func:`sample_erasing_params`) is random and cheap; applying the boxes
  (:func:`apply_erasing`) is deterministic: the fill value, noise included, is an input.
* The mask is built from broadcast iota comparisons and applied with one select, so the
  whole op is a single fused elementwise pass over the batch with static shapes.

Unlike the mixing ops, erasing touches only the images: labels are unchanged.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mixjax import _checks


def _pair(value: Any, name: str) -> tuple[Any, Any]:
  """Splits a `(low, high)` pair (tuple, list or shape-`[2]` array; may be traced)."""
  if isinstance(value, str):
    raise ValueError(f"`{name}` must be a pair (low, high), got {value!r}.")
  if isinstance(value, tuple | list):
    if len(value) != 2:
      raise ValueError(f"`{name}` must be a pair (low, high), got {value!r}.")
    return value[0], value[1]
  if jnp.shape(value) != (2,):
    raise ValueError(f"`{name}` must be a pair (low, high), got shape {jnp.shape(value)}.")
  return value[0], value[1]


def _concrete_pair(low: Any, high: Any, name: str) -> tuple[float, float] | None:
  """`(low, high)` as Python floats, or None when either is traced."""
  for v in (low, high):
    if jnp.ndim(v) != 0:
      raise ValueError(f"`{name}` must hold two scalars, got an element of shape {jnp.shape(v)}.")
  if not (_checks.is_concrete(low) and _checks.is_concrete(high)):
    return None
  return float(np.asarray(low)), float(np.asarray(high))


def check_area_range(area_range: Any, name: str = "area_range") -> tuple[Any, Any]:
  """Checks `0 < low <= high <= 1` (when concrete) and returns `(low, high)`."""
  low, high = _pair(area_range, name)
  values = _concrete_pair(low, high, name)
  if values is not None and not 0.0 < values[0] <= values[1] <= 1.0:
    raise ValueError(
      f"`{name}` must be (low, high) area fractions with 0 < low <= high <= 1, got {tuple(values)}."
    )
  return low, high


def check_aspect_range(aspect_range: Any, name: str = "aspect_range") -> tuple[Any, Any]:
  """Checks `0 < low <= high < inf` (when concrete) and returns `(low, high)`."""
  low, high = _pair(aspect_range, name)
  values = _concrete_pair(low, high, name)
  if values is not None and not (0.0 < values[0] <= values[1] and math.isfinite(values[1])):
    raise ValueError(
      f"`{name}` must be (low, high) height/width ratios with 0 < low <= high < inf, "
      f"got {tuple(values)}."
    )
  return low, high


def check_image_size(image_size: Any) -> tuple[int, int]:
  """Checks `(H, W)`, two positive Python ints."""
  ok = isinstance(image_size, tuple | list) and len(image_size) == 2
  ok = ok and all(isinstance(s, int | np.integer) and s >= 1 for s in image_size)
  if not ok:
    raise ValueError(
      f"`image_size` must be (height, width), two positive ints, got {image_size!r}."
    )
  return int(image_size[0]), int(image_size[1])


def check_fill(fill: Any, name: str, num_channels: int) -> None:
  """Checks a constant fill: a real scalar or a per-channel vector `[C]` (may be traced)."""
  if isinstance(fill, str):
    raise ValueError(f"`{name}` must be a number or a [{num_channels}] vector, got {fill!r}.")
  try:
    dtype = jnp.result_type(fill)
  except TypeError as e:
    raise TypeError(f"`{name}` must be a number or an array, got {fill!r}.") from e
  if not (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer)):
    raise TypeError(f"`{name}` must be a real number, got dtype {dtype}.")
  if jnp.shape(fill) not in ((), (num_channels,)):
    raise ValueError(
      f"`{name}` must be a scalar or a per-channel vector of shape ({num_channels},), "
      f"got shape {jnp.shape(fill)}."
    )


def fill_like(fill: Any, images: jax.Array, name: str) -> jax.Array:
  """`fill` in the images' dtype, after checking that it broadcasts to the images' shape."""
  try:
    dtype = jnp.result_type(fill)
  except TypeError as e:
    raise TypeError(f"`{name}` must be a number or an array, got {fill!r}.") from e
  if not (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer)):
    raise TypeError(f"`{name}` must be real, got dtype {dtype}.")
  shape = jnp.shape(fill)
  try:
    ok = jnp.broadcast_shapes(shape, images.shape) == images.shape
  except ValueError:
    ok = False
  if not ok:
    raise ValueError(
      f"`{name}` must broadcast to the images' shape {images.shape} (a scalar, a [C] "
      f"vector or a full-size array), got shape {shape}."
    )
  return jnp.asarray(fill).astype(images.dtype)


def check_box_like(params: Any, name: str, batch_size: int) -> jax.Array:
  """Checks an integer `[4]` or `[B, 4]` parameter array and returns it as a jax.Array."""
  dtype, shape = jnp.result_type(params), jnp.shape(params)
  if not jnp.issubdtype(dtype, jnp.integer):
    raise TypeError(f"`{name}` must be an integer array, got dtype {dtype}.")
  if shape not in ((4,), (batch_size, 4)):
    raise ValueError(
      f"`{name}` must have shape (4,) or ({batch_size}, 4) to match the images, got {shape}."
    )
  return jnp.asarray(params, jnp.int32)


def _erase_shape(batch_size: int, mode: str) -> tuple[int, ...]:
  _checks.check_choice(mode, "mode", _checks.MODES)
  return () if mode == "batch" else (batch_size,)


def sample_erasing_params(
  key: jax.Array,
  batch_size: int,
  image_size: tuple[int, int],
  *,
  probability: jax.typing.ArrayLike = 0.5,
  area_range: Any = (0.02, 0.4),
  aspect_range: Any = (0.3, 3.3),
  mode: str = "elem",
) -> jax.Array:
  """Samples the rectangles of a Random Erasing of a batch.

  With probability `probability` an example is erased. Its rectangle has area fraction
  `s ~ U(area_range)` and aspect ratio (height / width) `r` with `log r ~ U(log
  aspect_range)`, so tall and wide rectangles are equally likely; its side lengths are
  `h = round(sqrt(s·H·W·r))` and `w = round(sqrt(s·H·W/r))`, clipped to `[1, H]` and
  `[1, W]`; its top-left corner is uniform over the positions where it fits,
  `top ~ U{0, ..., H-h}` and `left ~ U{0, ..., W-w}`.

  The paper redraws `s` and `r` until the rectangle fits; clipping instead keeps the graph
  loop-free, and makes a rectangle smaller than `s·H·W` only when a side would exceed the
  image (for square images: never when `area_high · max(aspect_high, 1/aspect_low) <= 1`).

  Args:
    key: a PRNG key.
    batch_size: B, a positive Python int.
    image_size: `(H, W)`, positive Python ints.
    probability: chance that an example (or, in batch mode, the batch) is erased, in
      [0, 1]; may be traced (changing it does not recompile).
    area_range: `(low, high)` with `0 < low <= high <= 1`; may be traced.
    aspect_range: `(low, high)` height/width ratios with `0 < low <= high`; may be traced.
    mode: `"elem"` (an independent decision and rectangle per example) or `"batch"` (one
      decision and one rectangle shared by the whole batch).

  Returns:
    int32 `[B, 4]` boxes `(top, left, bottom, right)`, half-open; `(0, 0, 0, 0)` for the
    examples that are not erased. In batch mode all rows are equal.

  Raises:
    ValueError: at trace time, for a bad `batch_size`, `image_size`, `probability`,
      `area_range`, `aspect_range` or `mode`.

  References:
    Zhong, Zheng, Kang, Li and Yang, "Random Erasing Data Augmentation", AAAI 2020,
    arXiv:1708.04896.
  """
  _checks.check_batch_size(batch_size)
  height, width = check_image_size(image_size)
  _checks.check_probability(probability, "probability")
  area_low, area_high = check_area_range(area_range)
  aspect_low, aspect_high = check_aspect_range(aspect_range)
  shape = _erase_shape(batch_size, mode)

  key_erase, key_area, key_aspect, key_top, key_left = jax.random.split(key, 5)
  erase = jax.random.bernoulli(key_erase, jnp.asarray(probability, jnp.float32), shape)
  area = jax.random.uniform(
    key_area, shape, jnp.float32, jnp.asarray(area_low, jnp.float32), area_high
  ) * (height * width)
  log_aspect = jax.random.uniform(
    key_aspect,
    shape,
    jnp.float32,
    jnp.log(jnp.asarray(aspect_low, jnp.float32)),
    jnp.log(jnp.asarray(aspect_high, jnp.float32)),
  )
  aspect = jnp.exp(log_aspect)
  box_h = jnp.clip(jnp.round(jnp.sqrt(area * aspect)), 1, height).astype(jnp.int32)
  box_w = jnp.clip(jnp.round(jnp.sqrt(area / aspect)), 1, width).astype(jnp.int32)
  # Uniform offsets in [0, H-h] x [0, W-w]: a uniform in [0, 1) scaled by the number of
  # positions and floored (the min guards against float rounding up to the bound).
  top = jnp.floor(jax.random.uniform(key_top, shape) * (height - box_h + 1)).astype(jnp.int32)
  left = jnp.floor(jax.random.uniform(key_left, shape) * (width - box_w + 1)).astype(jnp.int32)
  top = jnp.minimum(top, height - box_h)
  left = jnp.minimum(left, width - box_w)
  boxes = jnp.stack([top, left, top + box_h, left + box_w], axis=-1)
  boxes = jnp.where(erase[..., None], boxes, jnp.zeros_like(boxes))
  return jnp.broadcast_to(boxes, (batch_size, 4))


def box_mask(boxes: jax.Array, height: int, width: int) -> jax.Array:
  """Boolean mask of the pixels inside `boxes`, from broadcast iota comparisons.

  Args:
    boxes: int32 `[4]` or `[B, 4]` half-open `(top, left, bottom, right)` boxes.
    height: H.
    width: W.

  Returns:
    bool `[H, W, 1]` (for `[4]`) or `[B, H, W, 1]` (for `[B, 4]`).
  """
  boxes = boxes[..., None, None, :]
  rows = jnp.arange(height, dtype=jnp.int32)[:, None]
  cols = jnp.arange(width, dtype=jnp.int32)[None, :]
  inside = (
    (rows >= boxes[..., 0])
    & (rows < boxes[..., 2])
    & (cols >= boxes[..., 1])
    & (cols < boxes[..., 3])
  )
  return inside[..., None]


def apply_erasing(
  images: jax.Array, boxes: jax.typing.ArrayLike, *, value: jax.typing.ArrayLike = 0.0
) -> jax.Array:
  """Overwrites the pixels inside `boxes` with `value` (deterministic).

  `out[b, h, w, c] = value[b, h, w, c]` (broadcast) if pixel (h, w) lies inside
  `boxes[b]`, else `images[b, h, w, c]`. Pixels outside the boxes, and every pixel of an
  example with an empty box, are returned bit for bit.

  Args:
    images: floating `[B, H, W, C]`.
    boxes: integer `[B, 4]` (or `[4]`, one box for all) half-open `(top, left, bottom,
      right)` boxes, e.g. from :func:`sample_erasing_params`. Boxes may extend past the
      border; only the part inside the image is erased.
    value: what erased pixels become, cast to the images' dtype: a scalar, a per-channel
      `[C]` vector (e.g. the dataset mean) or any array broadcastable to `[B, H, W, C]`,
      such as noise `jax.random.normal(key, images.shape, images.dtype)`. May be traced.

  Returns:
    `[B, H, W, C]` in the images' dtype.

  Raises:
    ValueError, TypeError: at trace time, for bad shapes or dtypes.

  References:
    Zhong, Zheng, Kang, Li and Yang, "Random Erasing Data Augmentation", AAAI 2020,
    arXiv:1708.04896.
  """
  batch_size, height, width = _checks.check_images(images)
  images = jnp.asarray(images)
  boxes = check_box_like(boxes, "boxes", batch_size)
  fill = fill_like(value, images, "value")
  return jnp.where(box_mask(boxes, height, width), fill, images)


def random_erasing(
  key: jax.Array,
  images: jax.Array,
  *,
  probability: jax.typing.ArrayLike = 0.5,
  area_range: Any = (0.02, 0.4),
  aspect_range: Any = (0.3, 3.3),
  value: str | jax.typing.ArrayLike = "random",
  mode: str = "elem",
) -> jax.Array:
  """Random Erasing (Zhong et al. 2017): overwrite a random rectangle of each image.

  Each example is erased with probability `probability`: a rectangle covering a fraction
  `s ~ U(area_range)` of the image, with height/width ratio `r`, `log r ~
  U(log aspect_range)`, placed uniformly where it fits, is filled with `value`. See
  :func:`sample_erasing_params` for the exact distribution. The defaults are the paper's
  (p = 0.5, s in [0.02, 0.4], r in [0.3, 1/0.3]).

  Args:
    key: a PRNG key; the same key gives the same output.
    images: floating `[B, H, W, C]`, usually normalised (zero mean, unit variance).
    probability: chance that an example is erased, in [0, 1]; may be traced. 0 returns
      the images unchanged, bit for bit.
    area_range: `(low, high)` erased area fractions, `0 < low <= high <= 1`.
    aspect_range: `(low, high)` height/width ratios, `0 < low <= high`.
    value: `"random"`, per-pixel standard normal noise drawn in the images' dtype (the
      paper fills with uniform random pixel values; on normalised images normal noise is
      the common equivalent), or a constant: a number or a per-channel `[C]` vector.
    mode: `"elem"` (independent per example) or `"batch"` (one decision and one
      rectangle for the whole batch; the noise still differs per pixel and example).

  Returns:
    `[B, H, W, C]` in the images' dtype. Labels are not affected.

  Raises:
    ValueError, TypeError: at trace time, for bad arguments; the message names the
      argument, the value received and what was expected.

  Example:
    >>> images = mixjax.random_erasing(key, images, probability=0.5)

  References:
    Zhong, Zheng, Kang, Li and Yang, "Random Erasing Data Augmentation", AAAI 2020,
    arXiv:1708.04896.
  """
  batch_size, height, width = _checks.check_images(images)
  images = jnp.asarray(images)
  random_value = isinstance(value, str)
  if random_value and value != "random":
    raise ValueError(f"`value` must be 'random', a number or a per-channel vector, got {value!r}.")
  if not random_value:
    check_fill(value, "value", images.shape[-1])
  key_boxes, key_noise = jax.random.split(key)
  boxes = sample_erasing_params(
    key_boxes,
    batch_size,
    (height, width),
    probability=probability,
    area_range=area_range,
    aspect_range=aspect_range,
    mode=mode,
  )
  if random_value:
    value = jax.random.normal(key_noise, images.shape, images.dtype)
  return apply_erasing(images, boxes, value=value)
