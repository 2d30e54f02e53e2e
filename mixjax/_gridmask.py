"""GridMask (Chen et al. 2020): drop a regular grid of square blocks from each image.

A grid is an int32 row `(unit, drop, offset_y, offset_x)`: the image is tiled by
`unit x unit` cells, and pixel (h, w) is dropped iff `(h + offset_y) mod unit < drop` and
`(w + offset_x) mod unit < drop`, so each cell loses one `drop x drop` square; `drop == 0`
drops nothing. The sampler returns `[B, 4]`, one row per example. The mask is a row mask of
`mixjax._masks`, built from iotas and an integer `mod`. Labels are not affected.

:func:`gridmask` checks the images and the fill, samples with the public
:func:`sample_gridmask_params` (which checks the distribution's arguments) and applies the
grids unchecked, so every argument is checked once.

Rotating the grid (the paper's optional random rotation) is not implemented.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp

from mixjax import _checks
from mixjax import _masks
from mixjax import _words


def default_d_range(image_size: tuple[int, int]) -> tuple[int, int]:
  """The default range of the unit size d: `[ceil(3·S/7), S]` with `S = min(H, W)`.

  These are the proportions of the authors' ImageNet setting (d in [96, 224] on 224-pixel
  crops). For 32x32 images (CIFAR) this gives d in [14, 32]: 1 to 2.3 units per side,
  dropped squares of about 6 to 13 pixels with the default `ratio=0.6`.

  Args:
    image_size: `(H, W)`.

  Returns:
    `(d_min, d_max)`, Python ints with `2 <= d_min <= d_max`.
  """
  return _default_d_range(_checks.check_image_size(image_size))


def _default_d_range(image_size: tuple[int, ...]) -> tuple[int, int]:
  size = min(image_size)
  return max(2, math.ceil(3 * size / 7)), max(2, size)


def check_d_range(d_range: Any) -> tuple[int, int]:
  """Checks `(d_min, d_max)`: Python ints with `2 <= d_min <= d_max`."""
  ok = isinstance(d_range, tuple | list) and len(d_range) == 2
  if not (ok and all(_checks.is_int(d) for d in d_range) and 2 <= d_range[0] <= d_range[1]):
    raise ValueError(
      f"`d_range` must be (d_min, d_max), ints with 2 <= d_min <= d_max (unit sizes in "
      f"pixels), got {d_range!r}."
    )
  return int(d_range[0]), int(d_range[1])


def sample_gridmask_params(
  key: jax.Array,
  batch_size: int,
  image_size: tuple[int, int],
  *,
  d_range: tuple[int, int] | None = None,
  ratio: jax.typing.ArrayLike = 0.6,
  probability: jax.typing.ArrayLike = 1.0,
  mode: str = "elem",
) -> jax.Array:
  """Samples the grids of a GridMask of a batch.

  For each masked example: a unit size `d ~ U{d_min, ..., d_max}`, a kept length
  `keep = clip(floor(ratio·d + 1/2), 1, d - 1)` along each axis of a unit, a dropped side
  `drop = d - keep`, and offsets `offset_y, offset_x ~ U{0, ..., d - 1}`. The expected
  dropped fraction of a large image is `(drop / d)² ≈ (1 - ratio)²`, exactly so in
  expectation over the offsets whatever the image size, since each row (column) is
  dropped with probability `drop / d`.

  Args:
    key: a PRNG key.
    batch_size: B, a positive Python int.
    image_size: `(H, W)`, positive Python ints.
    d_range: `(d_min, d_max)` unit sizes in pixels, ints with `2 <= d_min <= d_max`;
      None for :func:`default_d_range` of `image_size`.
    ratio: the paper's r, the fraction of each unit that is KEPT along each axis, in
      (0, 1); each unit loses a square of side about `(1 - ratio)·d`, so about
      `(1 - ratio)²` of the image is dropped. May be traced.
    probability: chance that an example (or, in batch mode, the batch) is masked, in
      [0, 1]; may be traced (e.g. the authors' linear ramp over training, without
      recompiling).
    mode: `"elem"` (an independent grid per example) or `"batch"` (one grid for all).

  Returns:
    int32 `[B, 4]` grids `(unit, drop, offset_y, offset_x)`; `drop == 0` for the examples
    that are not masked. In batch mode all rows are equal.

  Raises:
    ValueError: at trace time, for a bad `batch_size`, `image_size`, `d_range`, `ratio`,
      `probability` or `mode`.

  References:
    Chen, Liu, Zhao and Jia, "GridMask Data Augmentation", arXiv:2001.04086, 2020.
  """
  _checks.check_key(key)
  _checks.check_batch_size(batch_size)
  size = _checks.check_image_size(image_size)
  d_min, d_max = _default_d_range(size) if d_range is None else check_d_range(d_range)
  _checks.check_number(
    ratio,
    "ratio",
    low=0.0,
    high=1.0,
    low_open=True,
    high_open=True,
    expected="in (0, 1) (the kept fraction of each unit along each axis)",
  )
  _checks.check_probability(probability, "probability")
  shape = _checks.lam_shape(batch_size, mode)
  words = _words.draw(key, mask=shape, unit=shape, y=shape, x=shape)
  masked = _words.bernoulli(words["mask"], probability)
  unit = d_min + _words.below(words["unit"], d_max - d_min + 1)
  keep = jnp.floor(jnp.asarray(ratio, jnp.float32) * unit + 0.5).astype(jnp.int32)
  keep = jnp.clip(keep, 1, unit - 1)
  drop = jnp.where(masked, unit - keep, 0)
  offset_y = _words.below(words["y"], unit)
  offset_x = _words.below(words["x"], unit)
  grid = jnp.stack([unit, drop, offset_y, offset_x], axis=-1)
  return jnp.broadcast_to(grid, (batch_size, 4))


def apply_gridmask(
  images: jax.Array, grid: jax.typing.ArrayLike, *, fill: jax.typing.ArrayLike = 0.0
) -> jax.Array:
  """Replaces the pixels dropped by `grid` with `fill` (deterministic).

  Pixel (h, w) of example b becomes `fill` iff `(h + offset_y) mod unit < drop` and
  `(w + offset_x) mod unit < drop` for `(unit, drop, offset_y, offset_x) = grid[b]`; all
  other pixels are returned bit for bit.

  Args:
    images: floating `[B, H, W, C]`.
    grid: integer `[B, 4]` (or `[4]`, one grid for all) rows `(unit, drop, offset_y,
      offset_x)` with `unit >= 1` and non-negative offsets, e.g. from
      :func:`sample_gridmask_params`.
    fill: the value of dropped pixels, cast to the images' dtype: a scalar (0, as in the
      paper, on normalised images), a per-channel `[C]` vector or any array broadcastable
      to `[B, H, W, C]`. May be traced.

  Returns:
    `[B, H, W, C]` in the images' dtype.

  Raises:
    ValueError, TypeError: at trace time, for bad shapes or dtypes.

  References:
    Chen, Liu, Zhao and Jia, "GridMask Data Augmentation", arXiv:2001.04086, 2020.
  """
  images, grid = _checks.check_masking(images, grid, "grid", fill, "fill")
  return _masks.fill_where(_masks.grid_mask(grid, images.shape), fill, images)


def gridmask(
  key: jax.Array,
  images: jax.Array,
  *,
  d_range: tuple[int, int] | None = None,
  ratio: jax.typing.ArrayLike = 0.6,
  probability: jax.typing.ArrayLike = 1.0,
  mode: str = "elem",
  fill: jax.typing.ArrayLike = 0.0,
) -> jax.Array:
  """GridMask (Chen et al. 2020): drop a regular grid of squares from each image.

  Each masked image is tiled by `d x d` units with random offsets, `d ~ U{d_min..d_max}`,
  and one square of side about `(1 - ratio)·d` is dropped from every unit, so about
  `(1 - ratio)²` of the image is dropped in a regular pattern rather than one block. See
  :func:`sample_gridmask_params` for the exact distribution. The default `ratio=0.6` is
  the authors' ImageNet setting (16% of the pixels dropped); the grid is not rotated (the
  paper's optional random rotation is not implemented).

  Args:
    key: a PRNG key; the same key gives the same output.
    images: floating `[B, H, W, C]`, usually normalised.
    d_range: `(d_min, d_max)` unit sizes in pixels, `2 <= d_min <= d_max`; None for
      :func:`default_d_range` (`[ceil(3·S/7), S]`, S = min(H, W); [14, 32] for CIFAR).
    ratio: the fraction of each unit KEPT along each axis (the paper's r), in (0, 1).
    probability: chance that an example is masked, in [0, 1]; may be traced. 0 returns
      the images unchanged, bit for bit.
    mode: `"elem"` (a grid per example) or `"batch"` (one grid for the whole batch).
    fill: value of the dropped pixels: a number or a per-channel `[C]` vector.

  Returns:
    `[B, H, W, C]` in the images' dtype. Labels are not affected.

  Raises:
    ValueError, TypeError: at trace time, for bad arguments; the message names the
      argument, the value received and what was expected.

  Example:
    >>> images = mixjax.gridmask(key, images, ratio=0.6, probability=0.8)

  References:
    Chen, Liu, Zhao and Jia, "GridMask Data Augmentation", arXiv:2001.04086, 2020.
  """
  batch_size, height, width, channels = _checks.check_images(images)
  images = jnp.asarray(images)
  _checks.check_fill(fill, "fill", channels)
  grid = sample_gridmask_params(
    key,
    batch_size,
    (height, width),
    d_range=d_range,
    ratio=ratio,
    probability=probability,
    mode=mode,
  )
  out = _masks.fill_where(_masks.grid_mask(grid, images.shape), fill, images)
  ok = _checks.all_valid(
    _checks.valid(ratio, low=0.0, high=1.0, low_open=True, high_open=True),
    _checks.valid(probability, low=0.0, high=1.0),
  )
  return _masks.nan_unless(ok, out)
