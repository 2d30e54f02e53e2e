"""Pixel masks over the rows of a batch, the layout XLA:CPU vectorises.

A batch `[B, *spatial, C]` is viewed as `[B, *spatial[:-1], W·C]` (W the last spatial
axis): an image `[B, H, W, C]` as `[B, H, W·C]`, each image row one contiguous run of
`W·C` values, channels innermost; a sequence `[B, L, C]` as `[B, L·C]`, a video
`[B, T, H, W, C]` as `[B, T, H, W·C]`. A mask in that layout compares iotas along the
leading spatial axes and a column iota `[1, W·C]` against per-example parameters, so the
select that applies it runs over contiguous rows and XLA:CPU vectorises it, where a
`[..., W, 1]` mask broadcast over C became a per-pixel branch. Every mask is boolean
`[*spatial[:-1], W·C]` for one parameter row (shared by the batch) or with a leading B
for one row per example.

Used by CutMix and FMix (:func:`mixjax.apply_mix`), ResizeMix, Random Erasing and
GridMask. Nothing here checks its arguments: the public ops do that.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


def to_rows(x: jax.typing.ArrayLike, image_shape: tuple[int, ...]) -> jax.Array:
  """`x`, broadcastable to `image_shape` `[B, *spatial, C]`, in the row layout.

  The leading axes stay 1 where `x` is broadcast along them (a scalar or a `[C]` vector
  becomes `[1, ..., 1, W·C]`), so that a constant is not materialised at batch size.
  """
  width, channels = image_shape[-2:]
  x = jnp.asarray(x)
  x = x.reshape((1,) * (len(image_shape) - x.ndim) + x.shape)
  x = jnp.broadcast_to(x, x.shape[:-2] + (width, channels))
  return x.reshape(x.shape[:-2] + (width * channels,))


def mask_rows(mask: jax.Array, image_shape: tuple[int, ...]) -> jax.Array:
  """A pixel mask `[..., *spatial]` repeated over the channels, in the row layout.

  A mask shared by the batch (`[*spatial]`) is repeated once, as an array of its own: left
  to XLA, the broadcast over C is fused into the select that applies it, which then divides
  every pixel's column index by C (`benchmarks/bench_mask_rows.py`: the whole `fmix` batch
  op at ImageNet size took about 3x a copy on an AMD EPYC's XLA:CPU that way, 1.6x with the
  stored rows).
  XLA does not fuse a reduction into an elementwise consumer, so the mask goes through one
  (an `or` with a false row, which changes no value). Per-example masks are left to XLA:
  storing them gained nothing there and would add a temporary of a quarter batch.
  """
  channels = image_shape[-1]
  shared = mask.ndim == len(image_shape) - 2
  mask = jnp.broadcast_to(mask[..., None], mask.shape + (channels,))
  rows = mask.reshape(mask.shape[:-2] + (mask.shape[-2] * channels,))
  if shared:
    rows = jnp.any(jnp.stack([rows, jnp.zeros_like(rows)]), axis=0)
  return rows


def _iotas(
  params: jax.Array, image_shape: tuple[int, ...]
) -> tuple[jax.Array, jax.Array, jax.Array]:
  """The parameters `[..., 1, 1, 4]`, the row iota `[H, 1]` and the pixel column `[1, W·C]`."""
  _, height, width, channels = image_shape
  rows = jnp.arange(height, dtype=jnp.int32)[:, None]
  cols = jnp.arange(width * channels, dtype=jnp.int32)[None, :]
  return params[..., None, None, :], rows, cols


def box_mask(box: jax.Array, image_shape: tuple[int, ...]) -> jax.Array:
  """True inside the half-open boxes `(starts..., stops...)`, `[2S]` or `[B, 2S]`.

  For an image (S = 2) a box is `(top, left, bottom, right)`. A box may extend past the
  border or be inverted (then it is empty).
  """
  spatial, channels = image_shape[1:-1], image_shape[-1]
  ndim = len(spatial)
  box = box[(...,) + (None,) * ndim + (slice(None),)]
  inside: jax.Array | None = None
  for axis, size in enumerate(spatial):
    scale = channels if axis == ndim - 1 else 1  # The last axis runs over W·C columns.
    iota = jnp.arange(size * scale, dtype=jnp.int32)
    iota = iota.reshape((1,) * axis + (size * scale,) + (1,) * (ndim - 1 - axis))
    # Clipped first: a coordinate far past the border (1e9) times C would wrap in int32.
    start, stop = (jnp.clip(box[..., i], 0, size) * scale for i in (axis, ndim + axis))
    term = (iota >= start) & (iota < stop)
    inside = term if inside is None else inside & term
  assert inside is not None  # `image_shape` has at least one spatial axis.
  return inside


def grid_mask(grid: jax.Array, image_shape: tuple[int, ...]) -> jax.Array:
  """True where the grids `(unit, drop, offset_y, offset_x)`, `[4]` or `[B, 4]`, drop.

  Pixel (h, w) is dropped iff `(h + offset_y) mod unit < drop` and `(w + offset_x) mod unit
  < drop`; a unit below 1 is treated as 1. The offsets must be non-negative.
  """
  grid, rows, cols = _iotas(grid, image_shape)
  unit, drop = jnp.maximum(grid[..., 0], 1), grid[..., 1]
  pixel = cols // image_shape[3]  # A division by a constant: a multiply and a shift.
  # Non-negative operands, so `%` is the plain remainder.
  return ((rows + grid[..., 2]) % unit < drop) & ((pixel + grid[..., 3]) % unit < drop)


def fill_where(mask: jax.Array, fill: Any, images: jax.Array) -> jax.Array:
  """`images` `[B, H, W, C]` with `fill` where the row mask is True.

  `fill` broadcasts to the images' shape and is cast to their dtype; pixels outside the
  mask are returned bit for bit.
  """
  shape = images.shape
  fill = to_rows(jnp.asarray(fill).astype(images.dtype), shape)
  return jnp.where(mask, fill, to_rows(images, shape)).reshape(shape)


def nan_unless(ok: Any, images: jax.Array) -> jax.Array:
  """`images`, or all NaN where `ok` (:func:`mixjax._checks.all_valid`) is False: a traced
  hyperparameter out of range never silently means another augmentation."""
  return images if ok is True else jnp.where(ok, images, jnp.nan).astype(images.dtype)
