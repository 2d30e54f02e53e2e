"""Pixel masks over the rows of an image batch, the layout XLA:CPU vectorises.

An image batch `[B, H, W, C]` is viewed as `[B, H, W·C]`: each image row is one
contiguous run of `W·C` values, channels innermost. A mask in that layout compares a row
iota `[H, 1]` with a column iota `[1, W·C]` against per-example parameters, so the select
that applies it runs over contiguous rows and XLA:CPU vectorises it, where a `[..., W, 1]`
mask broadcast over C became a per-pixel branch. Every mask is boolean `[H, W·C]` for one
parameter row `[4]` (shared by the batch) or `[B, H, W·C]` for `[B, 4]`.

Used by CutMix (:func:`mixjax.apply_mix`), Random Erasing and GridMask. Nothing here
checks its arguments: the public ops do that.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


def to_rows(x: jax.typing.ArrayLike, image_shape: tuple[int, ...]) -> jax.Array:
  """`x`, broadcastable to `image_shape` `[B, H, W, C]`, as `[b, h, W·C]` rows.

  `b` and `h` stay 1 where `x` is broadcast along them (a scalar or a `[C]` vector becomes
  `[1, 1, W·C]`), so that a constant is not materialised at the size of the batch.
  """
  _, _, width, channels = image_shape
  x = jnp.asarray(x)
  x = x.reshape((1,) * (4 - x.ndim) + x.shape)
  x = jnp.broadcast_to(x, x.shape[:2] + (width, channels))
  return x.reshape(x.shape[:2] + (width * channels,))


def _iotas(
  params: jax.Array, image_shape: tuple[int, ...]
) -> tuple[jax.Array, jax.Array, jax.Array]:
  """The parameters `[..., 1, 1, 4]`, the row iota `[H, 1]` and the pixel column `[1, W·C]`."""
  _, height, width, channels = image_shape
  rows = jnp.arange(height, dtype=jnp.int32)[:, None]
  cols = jnp.arange(width * channels, dtype=jnp.int32)[None, :]
  return params[..., None, None, :], rows, cols


def box_mask(box: jax.Array, image_shape: tuple[int, ...]) -> jax.Array:
  """True inside the half-open boxes `(top, left, bottom, right)`, `[4]` or `[B, 4]`.

  A box may extend past the border or be inverted (then it is empty).
  """
  channels = image_shape[3]
  box, rows, cols = _iotas(box, image_shape)
  inside_rows = (rows >= box[..., 0]) & (rows < box[..., 2])
  return inside_rows & (cols >= box[..., 1] * channels) & (cols < box[..., 3] * channels)


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
