"""Tests for mixjax._masks: the row-layout masks equal slicing references, and the fill
keeps every pixel outside the mask bit for bit."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mixjax import _masks
from tests import _refs

# Boxes over the border (one far past it: times C it would wrap in int32), inverted,
# empty, covering everything, and plain.
_BOXES = np.array(
  [
    [-3, -2, 2, 4],
    [3, 9, 8, 20],
    [4, 4, 1, 1],
    [0, 0, 5, 11],
    [2, 2, 2, 6],
    [1, 3, 4, 7],
    [1, -(10**9), 10**9, 10**9],
  ],
  np.int32,
)


def _as_pixels(mask_rows, shape):
  """A row mask `[..., H, W·C]` as `[B, H, W, C]`, checking that it is constant over C."""
  batch, height, width, channels = shape
  mask = np.broadcast_to(np.asarray(mask_rows), (batch, height, width * channels))
  mask = mask.reshape(shape)
  np.testing.assert_array_equal(mask, np.broadcast_to(mask[..., :1], shape))
  return mask[..., 0]


@pytest.mark.parametrize("channels", [1, 3])
def test_box_mask_equals_slicing(channels):
  shape = (len(_BOXES), 5, 11, channels)
  mask = _masks.box_mask(jnp.asarray(_BOXES), shape)
  assert mask.shape == (len(_BOXES), 5, 11 * channels) and mask.dtype == jnp.bool_
  np.testing.assert_array_equal(_as_pixels(mask, shape), _refs.box_masks(_BOXES, *shape[:3]))
  one = _masks.box_mask(jnp.asarray(_BOXES[0]), shape)  # One box for the batch.
  assert one.shape == (5, 11 * channels)
  np.testing.assert_array_equal(_as_pixels(one, shape), _refs.box_masks(_BOXES[0], *shape[:3]))


@pytest.mark.parametrize("channels", [1, 3])
def test_grid_mask_equals_stripes(channels):
  grid = np.array([[4, 2, 0, 0], [5, 3, 4, 1], [3, 0, 1, 2], [7, 6, 6, 0], [0, 1, 0, 0]], np.int32)
  shape = (len(grid), 9, 13, channels)
  mask = _masks.grid_mask(jnp.asarray(grid), shape)
  assert mask.shape == (len(grid), 9, 13 * channels)
  np.testing.assert_array_equal(_as_pixels(mask, shape), _refs.grid_masks(grid, 9, 13))
  one = _masks.grid_mask(jnp.asarray(grid[1]), shape)
  np.testing.assert_array_equal(_as_pixels(one, shape)[0], _refs.grid_masks(grid[1], 9, 13)[0])


@pytest.mark.parametrize(
  "fill_shape,rows_shape",
  [((), (1, 1, 12)), ((3,), (1, 1, 12)), ((4, 3), (1, 1, 12)), ((5, 1, 4, 3), (5, 1, 12))],
)
def test_to_rows_keeps_broadcast_dimensions(fill_shape, rows_shape):
  shape = (2, 5, 4, 3) if fill_shape[:1] != (5,) else (5, 5, 4, 3)
  fill = jnp.arange(np.prod(fill_shape), dtype=jnp.float32).reshape(fill_shape)
  rows = _masks.to_rows(fill, shape)
  assert rows.shape == rows_shape
  np.testing.assert_array_equal(
    np.broadcast_to(rows, shape[:2] + (12,)).reshape(shape), np.broadcast_to(fill, shape)
  )


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_fill_where_fills_inside_and_keeps_outside_bit_for_bit(dtype):
  shape = (len(_BOXES), 5, 11, 3)
  images = jax.random.normal(jax.random.key(0), shape).astype(dtype)
  images = images.at[:, 0, 0].set(jnp.array([-0.0, jnp.inf, jnp.nan], dtype))
  fill = jnp.array([7.0, 8.0, 9.0])  # float32 fill: cast to the images' dtype.
  out = _masks.fill_where(_masks.box_mask(jnp.asarray(_BOXES), shape), fill, images)
  assert out.dtype == dtype and out.shape == shape
  inside = _refs.box_masks(_BOXES, *shape[:3])
  np.testing.assert_array_equal(_refs.bits(out)[~inside], _refs.bits(images)[~inside])
  np.testing.assert_array_equal(
    np.asarray(out, np.float32)[inside], np.tile([7.0, 8, 9], (inside.sum(), 1))
  )


@pytest.mark.parametrize("shape", [(4, 6, 9, 3), (4, 11, 2), (2, 3, 5, 4, 1)])
@pytest.mark.parametrize("per_example", [False, True])
def test_mask_rows_repeats_each_pixel_over_the_channels(shape, per_example):
  spatial = shape[1:-1]
  mask_shape = shape[:1] + spatial if per_example else spatial
  mask = jax.random.bernoulli(jax.random.key(len(shape)), 0.4, mask_shape)
  rows = jax.jit(_masks.mask_rows, static_argnums=1)(mask, shape)
  expected = np.repeat(np.asarray(mask), shape[-1], axis=-1)
  assert rows.dtype == jnp.bool_
  np.testing.assert_array_equal(rows, expected)
