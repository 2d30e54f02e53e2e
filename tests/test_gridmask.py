"""Tests for mixjax._gridmask (GridMask): properties, equivalences, statistics, checks."""

from __future__ import annotations

import functools
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized

from mixjax import apply_gridmask
from mixjax import gridmask
from mixjax import sample_gridmask_params
from mixjax._gridmask import default_d_range
from tests import _equivalences
from tests import _refs

B, H, W, C = 6, 16, 12, 3
_images = _refs.images_in_1_2
_reference_mask = _refs.grid_masks

# One compile per (batch_size, image_size, d_range, mode); ratio and probability are traced.
_sample = jax.jit(
  sample_gridmask_params, static_argnums=(1, 2), static_argnames=("d_range", "mode")
)


class VariantsTest(chex.TestCase):
  @chex.variants(with_jit=True, without_jit=True, with_device=True)
  @parameterized.parameters((jnp.float32, "elem"), (jnp.bfloat16, "batch"))
  def test_variant_matches_eager(self, dtype, mode):
    op = functools.partial(gridmask, probability=0.7, mode=mode, fill=-1.0)
    key, images = jax.random.key(1), _images(dtype=dtype)
    out = self.variant(op)(key, images)
    self.assertEqual(out.dtype, dtype)
    self.assertEqual(out.shape, images.shape)
    np.testing.assert_array_equal(out, op(key, images))

  @chex.variants(with_jit=True, without_jit=True, with_device=True)
  def test_deterministic_per_key(self):
    op = self.variant(gridmask)
    images = _images()
    a, b = op(jax.random.key(3), images), op(jax.random.key(3), images)
    np.testing.assert_array_equal(a, b)
    self.assertFalse(np.array_equal(a, op(jax.random.key(4), images)))


def test_vmap_equals_loop_over_keys():
  op = functools.partial(gridmask, probability=0.8)
  images = _images(shape=(3, B, H, W, C))
  _equivalences.assert_vmap_equals_loop(op, images, np.testing.assert_array_equal)


def test_pmap_with_folded_keys_equals_per_shard_eager():
  op = functools.partial(gridmask, probability=0.9)
  images = _images(shape=(8, B, H, W, C))
  _equivalences.assert_pmap_equals_eager(op, images, np.testing.assert_array_equal)


def test_traced_hyperparameters_do_not_recompile():
  @jax.jit
  @chex.assert_max_traces(n=1)
  def op(key, images, ratio, probability, fill):
    return gridmask(key, images, ratio=ratio, probability=probability, fill=fill)

  images = _images()
  for i, (ratio, p) in enumerate(((0.3, 0.2), (0.6, 0.8), (0.9, 1.0))):
    op(jax.random.key(i), images, ratio, p, jnp.full((C,), float(i)))


@pytest.mark.parametrize("ratio, probability", [(1.7, 1.0), (float("nan"), 1.0), (0.6, 3.0)])
def test_traced_bad_hyperparameters_give_nan_images(ratio, probability):
  op = jax.jit(lambda r, p: gridmask(jax.random.key(0), _images(), ratio=r, probability=p))
  assert np.all(np.isnan(op(ratio, probability)))
  assert np.all(np.isfinite(op(0.6, 0.8)))


@pytest.mark.parametrize("mode", ["elem", "batch"])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_probability_zero_is_identity_bit_for_bit(mode, dtype):
  images = _images(dtype=dtype)
  images = images.at[:, 0, 0].set(jnp.array([-0.0, jnp.inf, jnp.nan], dtype))
  out = jax.jit(functools.partial(gridmask, probability=0.0, mode=mode))(jax.random.key(0), images)
  np.testing.assert_array_equal(np.asarray(out).view(np.uint8), np.asarray(images).view(np.uint8))


@pytest.mark.parametrize("mode", ["elem", "batch"])
def test_probability_one_changes_every_example(mode):
  images = _images(shape=(64, H, W, C))
  op = jax.jit(functools.partial(gridmask, probability=1.0, mode=mode, ratio=0.9))
  for seed in range(3):
    out = op(jax.random.key(seed), images)
    assert np.any(np.asarray(out) != np.asarray(images), axis=(1, 2, 3)).all()


@pytest.mark.parametrize("mode", ["elem", "batch"])
def test_dropped_pixels_match_the_reference_grid(mode):
  images = _images(shape=(64, H, W, C))
  for seed in range(3):
    grid = _sample(jax.random.key(seed), 64, (H, W), d_range=(2, 9), probability=0.7, mode=mode)
    out = np.asarray(apply_gridmask(images, grid, fill=-1.0))
    expected = _reference_mask(grid, H, W)
    np.testing.assert_array_equal(out == -1.0, np.repeat(expected[..., None], C, axis=-1))
    np.testing.assert_array_equal(out[~expected], np.asarray(images)[~expected])


def test_mask_is_periodic_with_unit_squares():
  grid = np.asarray(_sample(jax.random.key(0), 200, (40, 36), d_range=(3, 12), ratio=0.4))
  dropped = np.asarray(apply_gridmask(jnp.ones((200, 40, 36, 1)), grid)[..., 0] == 0)
  for (unit, drop, _, _), mask in zip(grid, dropped, strict=True):
    np.testing.assert_array_equal(mask[unit:], mask[:-unit])
    np.testing.assert_array_equal(mask[:, unit:], mask[:, :-unit])
    # Separable: the dropped set is (dropped rows) x (dropped columns) ...
    rows, cols = mask.any(axis=1), mask.any(axis=0)
    np.testing.assert_array_equal(mask, rows[:, None] & cols[None, :])
    # ... and every period of `unit` rows (columns) holds exactly `drop` dropped ones.
    for line in (rows, cols):
      counts = np.convolve(line.astype(int), np.ones(unit, int), mode="valid")
      np.testing.assert_array_equal(counts, drop)


def test_grid_parameters_are_in_range():
  n, (d_min, d_max), ratio = 20_000, (4, 11), 0.6
  grid = np.asarray(_sample(jax.random.key(0), n, (H, W), d_range=(d_min, d_max), ratio=ratio))
  unit, drop, offset_y, offset_x = grid.T
  np.testing.assert_array_equal(np.unique(unit), np.arange(d_min, d_max + 1))
  keep = np.clip(np.floor(ratio * unit + 0.5), 1, unit - 1)
  np.testing.assert_array_equal(drop, unit - keep)
  for offset in (offset_y, offset_x):
    assert (offset >= 0).all() and (offset < unit).all()
    # Uniform on {0, ..., d - 1}: offset / d has mean (d - 1) / (2d).
    assert abs(np.mean(offset / unit - (unit - 1) / (2 * unit))) < 0.01


def test_default_d_range():
  assert default_d_range((32, 32)) == (14, 32)
  assert default_d_range((224, 224)) == (96, 224)
  assert default_d_range((3, 40)) == (2, 3)


def test_dropped_fraction_is_exact_in_expectation_for_a_fixed_unit():
  # d = 10, ratio 0.5: 5 rows and 5 columns of every 10 are dropped, whatever the offsets,
  # so on average exactly a quarter of the image, (1 - ratio)², even when 10 does not
  # divide the image size.
  n = 4000
  grid = _sample(jax.random.key(0), n, (H, W), d_range=(10, 10), ratio=0.5)
  dropped = np.asarray(apply_gridmask(jnp.ones((n, H, W, 1)), grid)[..., 0] == 0)
  fraction = dropped.mean(axis=(1, 2))
  se = fraction.std() / math.sqrt(n)
  assert abs(fraction.mean() - 0.25) < 5 * se + 1e-4, (fraction.mean(), se)


@pytest.mark.parametrize("ratio", [0.4, 0.6])
def test_mean_dropped_fraction_is_about_one_minus_ratio_squared(ratio):
  n, size = 4000, 32
  grid = np.asarray(_sample(jax.random.key(1), n, (size, size), ratio=ratio))
  images = jnp.ones((n, size, size, 1))
  dropped = np.asarray(apply_gridmask(images, grid)[..., 0] == 0).mean(axis=(1, 2))
  se = dropped.std() / math.sqrt(n)
  # Exact expectation from the documented parameters (drop / d per axis) ...
  d_min, d_max = default_d_range((size, size))
  units = np.arange(d_min, d_max + 1)
  drops = units - np.clip(np.floor(ratio * units + 0.5), 1, units - 1)
  assert abs(dropped.mean() - np.mean((drops / units) ** 2)) < 5 * se
  # ... which is (1 - ratio)² up to whole-pixel rounding.
  assert abs(dropped.mean() - (1 - ratio) ** 2) < 0.01


@pytest.mark.parametrize("mode,n", [("elem", 20_000), ("batch", 2_000)])
def test_fraction_of_masked_examples_matches_probability(mode, n):
  p = 0.3
  if mode == "elem":
    grid = np.asarray(_sample(jax.random.key(0), n, (H, W), probability=p))
  else:
    keys = jax.random.split(jax.random.key(0), n)
    grid = jax.vmap(lambda k: _sample(k, 2, (H, W), probability=p, mode="batch"))(keys)
    grid = np.asarray(grid)[:, 0]
  masked = grid[:, 1] > 0
  sd = math.sqrt(p * (1 - p) / n)
  assert abs(masked.mean() - p) < 5 * sd, (masked.mean(), p, sd)


def test_batch_mode_shares_one_grid():
  for seed in range(10):
    grid = np.asarray(_sample(jax.random.key(seed), B, (H, W), probability=0.5, mode="batch"))
    assert (grid == grid[0]).all()


def test_per_channel_fill():
  grid = jnp.array([4, 2, 0, 0])
  out = np.asarray(apply_gridmask(_images(), grid, fill=jnp.array([7.0, 8, 9])))
  np.testing.assert_array_equal(out[:, 0:2, 4:6], np.broadcast_to([7.0, 8, 9], (B, 2, 2, C)))
  np.testing.assert_array_equal(out[:, 2:4, 4:6], np.asarray(_images())[:, 2:4, 4:6])


@pytest.mark.parametrize(
  "kwargs,error,match",
  [
    ({"images": jnp.ones((H, W, C))}, ValueError, "`images` must be rank 4"),
    ({"images": jnp.ones((B, H, W, C), jnp.uint8)}, TypeError, "`images` must be floating"),
    ({"probability": 1.5}, ValueError, r"`probability` must be in \[0, 1\], got 1.5"),
    ({"ratio": 0.0}, ValueError, r"`ratio` must be in \(0, 1\).*got 0.0"),
    ({"ratio": 1.0}, ValueError, r"`ratio` must be in \(0, 1\)"),
    ({"ratio": -0.5}, ValueError, "`ratio`"),
    ({"ratio": jnp.ones(2) / 2}, ValueError, "`ratio` must be a scalar"),
    ({"d_range": (1, 8)}, ValueError, r"`d_range` must be .* 2 <= d_min <= d_max.*\(1, 8\)"),
    ({"d_range": (9, 8)}, ValueError, "`d_range`"),
    ({"d_range": (2.5, 8)}, ValueError, "`d_range`"),
    ({"d_range": 8}, ValueError, "`d_range`"),
    ({"mode": "pixel"}, ValueError, r"`mode` must be one of \('batch', 'elem'\), got 'pixel'"),
    ({"fill": jnp.zeros((2,))}, ValueError, r"`fill` must be a scalar or .* shape \(3,\)"),
    ({"fill": "black"}, ValueError, "`fill`"),
  ],
)
def test_bad_arguments_raise_naming_the_argument(kwargs, error, match):
  kwargs = {"images": _images(), **kwargs}
  images = kwargs.pop("images")
  _equivalences.assert_raises_eagerly_and_under_jit(gridmask, images, kwargs, error, match)


@pytest.mark.parametrize(
  "grid,fill,error,match",
  [
    (jnp.zeros((B, 4), jnp.float32), 0.0, TypeError, "`grid` must be an integer array"),
    (jnp.zeros((B, 3), jnp.int32), 0.0, ValueError, r"`grid` must have shape \(4,\) or"),
    (jnp.zeros((B, 4), jnp.int32), jnp.zeros((2,)), ValueError, "`fill` must broadcast"),
  ],
)
def test_apply_bad_arguments(grid, fill, error, match):
  with pytest.raises(error, match=match):
    apply_gridmask(_images(), grid, fill=fill)
