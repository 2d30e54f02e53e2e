"""Tests for mixjax._erasing (Random Erasing): properties, equivalences, statistics, checks."""

from __future__ import annotations

import functools
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from scipy import stats

from mixjax import _erasing
from mixjax import apply_erasing
from mixjax import random_erasing
from mixjax import sample_erasing_params
from tests import _equivalences
from tests import _refs

B, H, W, C = 6, 16, 12, 3
_images = _refs.images_in_1_2

# One compile per (batch_size, image_size, mode); the float hyperparameters are traced.
_sample = jax.jit(sample_erasing_params, static_argnums=(1, 2), static_argnames=("mode",))


def _reference_mask(boxes, height: int, width: int) -> np.ndarray:
  return _refs.box_masks(boxes, len(boxes), height, width)


def _assert_close(actual, expected):
  # Random noise may differ by an ulp between fused (compiled) and op-by-op evaluation.
  np.testing.assert_allclose(
    np.asarray(actual, np.float32), np.asarray(expected, np.float32), rtol=1e-6, atol=1e-6
  )


class VariantsTest(chex.TestCase):
  @chex.variants(with_jit=True, without_jit=True, with_device=True)
  @parameterized.parameters(
    (jnp.float32, "random", "elem"),
    (jnp.bfloat16, "random", "batch"),
    (jnp.float32, 0.0, "batch"),
    (jnp.bfloat16, 0.0, "elem"),
  )
  def test_variant_matches_eager(self, dtype, value, mode):
    op = functools.partial(random_erasing, probability=0.7, value=value, mode=mode)
    key, images = jax.random.key(1), _images(dtype=dtype)
    out = self.variant(op)(key, images)
    self.assertEqual(out.dtype, dtype)
    self.assertEqual(out.shape, images.shape)
    _assert_close(out, op(key, images))

  @chex.variants(with_jit=True, without_jit=True, with_device=True)
  def test_deterministic_per_key(self):
    op = self.variant(functools.partial(random_erasing, probability=1.0))
    images = _images()
    a, b = op(jax.random.key(3), images), op(jax.random.key(3), images)
    np.testing.assert_array_equal(a, b)
    c = op(jax.random.key(4), images)
    self.assertFalse(np.array_equal(a, c))

  @chex.variants(with_jit=True, without_jit=True)
  def test_sample_then_apply_is_deterministic(self):
    boxes = sample_erasing_params(jax.random.key(0), B, (H, W), probability=1.0)
    images = _images()
    out = self.variant(apply_erasing)(images, boxes, value=-1.0)
    np.testing.assert_array_equal(out, apply_erasing(images, boxes, value=-1.0))


def test_vmap_equals_loop_over_keys():
  op = functools.partial(random_erasing, probability=0.8)
  _equivalences.assert_vmap_equals_loop(op, _images(shape=(3, B, H, W, C)), _assert_close)


def test_pmap_with_folded_keys_equals_per_shard_eager():
  op = functools.partial(random_erasing, probability=0.9)
  _equivalences.assert_pmap_equals_eager(op, _images(shape=(8, B, H, W, C)), _assert_close)


def test_traced_hyperparameters_do_not_recompile():
  @jax.jit
  @chex.assert_max_traces(n=1)
  def op(key, images, probability, area_range):
    return random_erasing(key, images, probability=probability, area_range=area_range)

  images = _images()
  for i, p in enumerate((0.1, 0.5, 0.9)):
    op(jax.random.key(i), images, p, jnp.array([0.05 * (i + 1), 0.3]))


@pytest.mark.parametrize(
  "probability, area_range, aspect_range",
  [(1.5, (0.1, 0.3), (0.3, 3.3)), (0.5, (0.9, 0.1), (0.3, 3.3)), (0.5, (0.1, 0.3), (-1.0, 2.0))],
)
def test_traced_bad_hyperparameters_give_nan_images(probability, area_range, aspect_range):
  op = jax.jit(
    lambda p, area, aspect: random_erasing(
      jax.random.key(0), _images(), probability=p, area_range=area, aspect_range=aspect
    )
  )
  bad = op(probability, jnp.array(area_range), jnp.array(aspect_range))
  assert np.all(np.isnan(bad))
  good = op(0.5, jnp.array((0.1, 0.3)), jnp.array((0.3, 3.3)))
  assert np.all(np.isfinite(good))


@pytest.mark.parametrize("mode", ["elem", "batch"])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_probability_zero_is_identity_bit_for_bit(mode, dtype):
  images = _images(dtype=dtype)
  # Special values must survive untouched too.
  images = images.at[0, 0, 0].set(jnp.array([-0.0, jnp.inf, jnp.nan], dtype))
  for value in ("random", 0.0):
    out = jax.jit(functools.partial(random_erasing, probability=0.0, value=value, mode=mode))(
      jax.random.key(0), images
    )
    np.testing.assert_array_equal(np.asarray(out).view(np.uint8), np.asarray(images).view(np.uint8))


@pytest.mark.parametrize("mode", ["elem", "batch"])
@pytest.mark.parametrize("value", ["random", 0.0])
def test_probability_one_changes_every_example(mode, value):
  images = _images(shape=(64, H, W, C))
  op = jax.jit(functools.partial(random_erasing, probability=1.0, value=value, mode=mode))
  for seed in range(3):
    out = op(jax.random.key(seed), images)
    changed = np.any(np.asarray(out) != np.asarray(images), axis=(1, 2, 3))
    assert changed.all()


@pytest.mark.parametrize("mode", ["elem", "batch"])
def test_erased_pixels_are_exactly_the_box(mode):
  images = _images(shape=(64, H, W, C))
  for seed in range(4):
    boxes = _sample(jax.random.key(seed), 64, (H, W), probability=0.5, mode=mode)
    out = np.asarray(apply_erasing(images, boxes, value=-1.0))
    expected = _reference_mask(boxes, H, W)
    np.testing.assert_array_equal(out == -1.0, np.repeat(expected[..., None], C, axis=-1))
    np.testing.assert_array_equal(out[~expected], np.asarray(images)[~expected])


def test_random_fill_is_noise_inside_and_identity_outside():
  images = _images()
  boxes = _sample(jax.random.key(0), B, (H, W), probability=1.0)
  noise = jax.random.normal(jax.random.key(1), images.shape)
  out = np.asarray(apply_erasing(images, boxes, value=noise))
  inside = np.repeat(_reference_mask(boxes, H, W)[..., None], C, axis=-1)
  np.testing.assert_array_equal(out[inside], np.asarray(noise)[inside])
  np.testing.assert_array_equal(out[~inside], np.asarray(images)[~inside])


@pytest.mark.parametrize("value", [jnp.array([7.0, 8, 9]), [7.0, 8, 9], (7, 8, 9)])
def test_per_channel_value_and_single_box(value):
  images = _images()
  out = np.array(apply_erasing(images, jnp.array([2, 3, 5, 7]), value=value))
  np.testing.assert_array_equal(out[:, 2:5, 3:7], np.broadcast_to([7.0, 8, 9], (B, 3, 4, C)))
  out[:, 2:5, 3:7] = np.asarray(images)[:, 2:5, 3:7]
  np.testing.assert_array_equal(out, images)


def test_boxes_fit_inside_the_image_and_respect_clipping():
  boxes = np.asarray(
    _sample(
      jax.random.key(0),
      5000,
      (H, W),
      probability=1.0,
      area_range=(0.02, 1.0),
      aspect_range=(0.1, 10.0),
    )
  )
  top, left, bottom, right = boxes.T
  assert (top >= 0).all() and (left >= 0).all()
  assert (bottom <= H).all() and (right <= W).all()
  assert (bottom > top).all() and (right > left).all()
  # Large areas and extreme aspects do get clipped to full height / full width.
  assert (bottom - top == H).any() and (right - left == W).any()


def test_batch_mode_shares_one_box():
  for seed in range(20):
    boxes = np.asarray(_sample(jax.random.key(seed), B, (H, W), probability=0.5, mode="batch"))
    assert (boxes == boxes[0]).all()


@pytest.mark.parametrize("mode,n", [("elem", 20_000), ("batch", 2_000)])
def test_fraction_of_erased_examples_matches_probability(mode, n):
  p = 0.3
  if mode == "elem":
    erased = np.asarray(_sample(jax.random.key(0), n, (H, W), probability=p)).any(axis=-1)
  else:
    keys = jax.random.split(jax.random.key(0), n)
    boxes = jax.vmap(lambda k: _sample(k, 2, (H, W), probability=p, mode="batch"))(keys)
    erased = np.asarray(boxes)[:, 0].any(axis=-1)
  sd = math.sqrt(p * (1 - p) / n)
  assert abs(erased.mean() - p) < 5 * sd, (erased.mean(), p, sd)


def test_mean_erased_area_matches_uniform_area_without_clipping():
  # With H = W = 100, area <= 0.3 and aspect in [0.8, 1.25], h, w <= 62 < 100: never clipped.
  n, size, (lo, hi) = 20_000, 100, (0.1, 0.3)
  boxes = np.asarray(
    _sample(
      jax.random.key(0),
      n,
      (size, size),
      probability=1.0,
      area_range=(lo, hi),
      aspect_range=(0.8, 1.25),
    )
  )
  heights, widths = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
  assert heights.max() < size and widths.max() < size
  area = heights * widths / size**2
  expected = (lo + hi) / 2
  se = (hi - lo) / math.sqrt(12 * n)
  # Rounding h and w to whole pixels adds at most ~1e-3 of bias here.
  assert abs(area.mean() - expected) < 5 * se + 1e-3, (area.mean(), expected)
  assert area.min() > lo - 0.01 and area.max() < hi + 0.01
  # s ~ U(lo, hi): a Kolmogorov-Smirnov test on the (rounded) erased areas.
  assert stats.kstest(area, stats.uniform(lo, hi - lo).cdf).statistic < 0.02
  # log(h / w) ~ U(log 0.8, log 1.25) is symmetric around 0.
  log_aspect = np.log(heights / widths)
  assert abs(log_aspect.mean()) < 5 * np.log(1.25) / math.sqrt(3 * n) + 2e-3


def test_offsets_are_uniform_over_fitting_positions():
  # A fixed 4x3 box (area 12/(16*12), aspect 4/3) has 13 x 10 positions, all equally likely.
  n = 26_000
  boxes = np.asarray(
    _sample(
      jax.random.key(0),
      n,
      (H, W),
      probability=1.0,
      area_range=(12 / (H * W),) * 2,
      aspect_range=(4 / 3, 4 / 3),
    )
  )
  np.testing.assert_array_equal(boxes[:, 2] - boxes[:, 0], 4)
  np.testing.assert_array_equal(boxes[:, 3] - boxes[:, 1], 3)
  for column, positions in ((0, H - 4 + 1), (1, W - 3 + 1)):
    counts = np.bincount(boxes[:, column], minlength=positions)
    assert len(counts) == positions
    assert stats.chisquare(counts).pvalue > 1e-4


@pytest.mark.parametrize(
  "kwargs,error,match",
  [
    ({"images": jnp.ones((H, W, C))}, ValueError, "`images` must be rank 4"),
    ({"images": jnp.ones((B, H, W, C), jnp.int32)}, TypeError, "`images` must be floating"),
    ({"probability": 1.5}, ValueError, r"`probability` must be in \[0, 1\], got 1.5"),
    ({"probability": -0.1}, ValueError, "`probability`"),
    ({"area_range": (0.0, 0.4)}, ValueError, r"`area_range`.*0 < low <= high <= 1"),
    ({"area_range": (0.5, 0.4)}, ValueError, "`area_range`"),
    ({"area_range": (0.1, 1.5)}, ValueError, "`area_range`"),
    ({"area_range": 0.3}, ValueError, "`area_range` must be a pair"),
    ({"aspect_range": (0.0, 3.0)}, ValueError, r"`aspect_range`.*0 < low <= high"),
    ({"aspect_range": (3.0, 0.3)}, ValueError, "`aspect_range`"),
    ({"aspect_range": (1.0, 2.0, 3.0)}, ValueError, "`aspect_range` must be a pair"),
    ({"mode": "pixel"}, ValueError, r"`mode` must be one of \('batch', 'elem'\), got 'pixel'"),
    ({"value": "mean"}, ValueError, "`value` must be 'random'"),
    ({"value": jnp.zeros((2,))}, ValueError, r"`value` must be a scalar or .* shape \(3,\)"),
    ({"value": jnp.zeros((B, H, W, C))}, ValueError, "`value`"),
  ],
)
def test_bad_arguments_raise_naming_the_argument(kwargs, error, match):
  kwargs = {"images": _images(), **kwargs}
  images = kwargs.pop("images")
  _equivalences.assert_raises_eagerly_and_under_jit(random_erasing, images, kwargs, error, match)


@pytest.mark.parametrize(
  "boxes,value,error,match",
  [
    (jnp.zeros((B, 4), jnp.float32), 0.0, TypeError, "`boxes` must be an integer array"),
    (jnp.zeros((B + 1, 4), jnp.int32), 0.0, ValueError, r"`boxes` must have shape \(4,\) or"),
    (jnp.zeros((B, 4), jnp.int32), jnp.zeros((2,)), ValueError, "`value` must broadcast"),
    (jnp.zeros((B, 4), jnp.int32), "random", TypeError, "`value`"),
  ],
)
def test_apply_bad_arguments(boxes, value, error, match):
  with pytest.raises(error, match=match):
    apply_erasing(_images(), boxes, value=value)


@pytest.mark.parametrize(
  "kwargs,match",
  [
    ({"batch_size": 0}, "`batch_size`"),
    ({"image_size": (16,)}, "`image_size`"),
    ({"image_size": (0, 4)}, "`image_size`"),
  ],
)
def test_sample_bad_arguments(kwargs, match):
  kwargs = {"batch_size": B, "image_size": (H, W), **kwargs}
  with pytest.raises(ValueError, match=match):
    sample_erasing_params(jax.random.key(0), **kwargs)


# ---------------------------------------------------------------------------------------
# The default noise fill.

_noise = jax.jit(_erasing.pixel_noise, static_argnums=1)


def test_pixel_noise_is_standard_normal_and_uncorrelated():
  shape = (8, 32, 32, 3)
  noise = np.asarray(_noise(jax.random.key(0), shape), np.float64)
  assert noise.shape == shape and np.isfinite(noise).all()
  flat = noise.ravel()
  assert stats.kstest(flat, "norm").pvalue > 1e-3
  assert abs(flat.mean()) < 5 / math.sqrt(flat.size)
  assert stats.chi2(flat.size - 1).sf(np.sum((flat - flat.mean()) ** 2)) > 1e-4  # Variance 1.
  bound = 5 / math.sqrt(noise[..., 0].size)
  neighbours = {
    "channel": (noise[..., 0], noise[..., 1]),
    "pixel": (noise[:, :, :-1], noise[:, :, 1:]),
    "row": (noise[:, :-1], noise[:, 1:]),
    "example": (noise[:-1], noise[1:]),
  }
  for name, (a, b) in neighbours.items():
    assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < bound, name


def test_noise_levels_are_the_normal_to_12_bits():
  """Conditional means of 4,096 equiprobable bins, scaled to unit variance (the bins'
  medians would have variance 0.99968): the claims of `noise_levels`' docstring."""
  levels = _erasing.noise_levels()
  n = 1 << _erasing.NOISE_BITS
  assert levels.shape == (n,) and levels.dtype == np.float32 and n == 4096
  assert not levels.flags.writeable  # The cached table cannot be changed by a caller.
  np.testing.assert_array_equal(levels, -levels[::-1])
  levels = levels.astype(np.float64)
  assert np.all(np.diff(levels) > 0)
  assert abs(levels.mean()) < 1e-9 and abs(np.mean(levels**2) - 1) < 1e-6
  cdf, k = stats.norm.cdf(levels), np.arange(n)
  assert np.all((cdf > k / n) & (cdf < (k + 1) / n))  # Each level inside its bin.
  distance = max(np.abs(cdf - k / n).max(), np.abs(cdf - (k + 1) / n).max())
  assert 1 / (2 * n) < distance < 1.53e-4
  assert 3.73 < levels[-1] < 3.75


def test_pixel_noise_takes_every_level_equally_often():
  shape = (8, 64, 64, 3)
  noise = np.asarray(_noise(jax.random.key(4), shape))
  level = np.searchsorted(_erasing.noise_levels(), noise)
  np.testing.assert_array_equal(_erasing.noise_levels()[level], noise)
  counts = np.bincount(level.ravel(), minlength=4096)
  assert stats.chisquare(counts).pvalue > 1e-4


def test_pixel_noise_differs_across_keys_and_repeats_per_key():
  shape = (8, 32, 32, 3)
  a, b = _noise(jax.random.key(1), shape), _noise(jax.random.key(2), shape)
  np.testing.assert_array_equal(a, _noise(jax.random.key(1), shape))
  assert abs(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1]) < 5 / math.sqrt(a.size)


@pytest.mark.parametrize("mode", ["elem", "batch"])
def test_erased_pixels_are_standard_normal_noise(mode):
  """The default fill: N(0, 1) per erased pixel, independent across channels and examples
  (in batch mode the examples share the box, so the same pixel of two examples is compared)."""
  images = jnp.full((64, H, W, C), 7.0)
  op = jax.jit(functools.partial(random_erasing, probability=1.0, area_range=(0.3, 0.4), mode=mode))
  out = np.asarray(op(jax.random.key(5), images), np.float64)
  erased = out != 7.0
  values = out[erased]
  assert values.size > 3000
  assert stats.kstest(values, "norm").pvalue > 1e-3
  both = erased[..., 0] & erased[..., 1]
  corr = np.corrcoef(out[..., 0][both], out[..., 1][both])[0, 1]
  assert abs(corr) < 5 / math.sqrt(both.sum())
  pair = erased[:-1, ..., 0] & erased[1:, ..., 0]
  if mode == "batch":  # Shared boxes: every erased pixel is erased in the next example too.
    np.testing.assert_array_equal(pair, erased[:-1, ..., 0])
  a, b = out[:-1, ..., 0][pair], out[1:, ..., 0][pair]
  assert abs(np.corrcoef(a, b)[0, 1]) < 5 / math.sqrt(pair.sum())


def test_noise_fill_needs_no_batch_of_temporaries():
  """The noise is fused into the fill: the compiled op holds no noise batch (it held 3)."""
  images = jnp.zeros((16, 64, 64, 3))
  compiled = jax.jit(random_erasing).lower(jax.random.key(0), images).compile()
  assert compiled.memory_analysis().temp_size_in_bytes < 0.05 * images.nbytes
