"""Tests for mixjax._resizemix: ResizeMix sampler, apply and op."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized

import mixjax
from tests import _refs


def _nearest_resize(image: np.ndarray, size: tuple[int, ...]) -> np.ndarray:
  """`image` `[*spatial, C]` resized to `size` by the pixel under each output centre."""
  axes = zip(size, image.shape[:-1], strict=True)
  index = np.ix_(*[((np.arange(n) + 0.5) * d / n).astype(int) for n, d in axes])
  return image[index]


class ResizemixVariantsTest(chex.TestCase):
  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.product(
    mode=("batch", "elem"), method=("nearest", "linear"), pairing=("permute", "roll")
  )
  def test_pastes_the_resized_partner_with_exact_weight(self, mode, method, pairing):
    images, labels = _refs.random_batch(5, 12, 10, channels=3)
    key = jax.random.key(4)
    kwargs = dict(mode=mode, scale_range=(0.2, 0.7), pairing=pairing)
    fn = self.variant(lambda k, x, y: mixjax.resizemix(k, x, y, method=method, **kwargs))
    out, mixed = fn(key, images, labels)
    params = mixjax.sample_resizemix_params(key, 5, (12, 10), **kwargs)
    boxes = np.broadcast_to(np.asarray(params.box), (5, 4))
    partner = np.asarray(params.partner)
    if pairing == "roll":
      np.testing.assert_array_equal(partner, [4, 0, 1, 2, 3])
    out, x = np.asarray(out), np.asarray(images)
    for i, (top, left, bottom, right) in enumerate(boxes):
      assert 0 <= top < bottom <= 12 and 0 <= left < right <= 10
      size = (bottom - top, right - left)
      if method == "nearest":
        resized = _nearest_resize(x[partner[i]], size)
      else:
        resized = jax.image.resize(x[partner[i]], (*size, 3), "linear")
      np.testing.assert_allclose(out[i, top:bottom, left:right], resized, atol=1e-5)
      outside = np.ones((12, 10), bool)
      outside[top:bottom, left:right] = False
      np.testing.assert_array_equal(out[i][outside], x[i][outside])
    kept = 1.0 - (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) / 120.0
    want = kept[:, None] * labels + (1 - kept[:, None]) * np.asarray(labels)[partner]
    np.testing.assert_allclose(mixed, want, atol=1e-6)


def test_scales_are_uniform_in_the_range():
  params = mixjax.sample_resizemix_params(
    jax.random.key(0), 2000, (100, 100), mode="elem", scale_range=(0.3, 0.6)
  )
  sides = np.asarray(params.box[:, 2] - params.box[:, 0])
  assert sides.min() == 30 and sides.max() == 60
  assert abs(np.mean(sides) - 45) < 1.0
  np.testing.assert_array_equal(sides, np.asarray(params.box[:, 3] - params.box[:, 1]))


def test_probability_zero_is_identity_and_one_trace_serves_every_scale():
  images, labels = _refs.random_batch(4, 8, 8)
  out, mixed = mixjax.resizemix(jax.random.key(0), images, labels, mode="elem", probability=0.0)
  np.testing.assert_array_equal(_refs.bits(out), _refs.bits(images))
  np.testing.assert_array_equal(_refs.bits(mixed), _refs.bits(labels))
  fn = jax.jit(lambda k, lo: mixjax.resizemix(k, images, labels, scale_range=(lo, 0.9)))
  for seed, lo in [(0, 0.1), (1, 0.5)]:
    fn(jax.random.key(seed), jnp.float32(lo))
  assert fn._cache_size() == 1
  bad_images, bad_labels = fn(jax.random.key(0), jnp.float32(0.95))
  assert np.all(np.isnan(bad_labels)) and np.all(np.isnan(bad_images))


@pytest.mark.parametrize("probability", [2.0, float("nan")])
def test_a_traced_bad_probability_makes_images_and_labels_nan(probability):
  images, labels = _refs.random_batch(4, 8, 8)
  fn = jax.jit(lambda p: mixjax.resizemix(jax.random.key(0), images, labels, probability=p))
  out, mixed = fn(jnp.float32(probability))
  assert np.all(np.isnan(out)) and np.all(np.isnan(mixed))
  good_out, good = fn(jnp.float32(0.5))
  assert np.all(np.isfinite(good_out)) and np.all(np.isfinite(good))


@pytest.mark.parametrize("scale_range", [(0.0, 0.5), (0.5, 1.0), (0.6, 0.4), (0.5, 0.5), 0.5])
def test_bad_scale_range_raises(scale_range):
  images, labels = _refs.random_batch(4, 8, 8)
  with pytest.raises(ValueError, match="`scale_range` must be"):
    mixjax.resizemix(jax.random.key(0), images, labels, scale_range=scale_range)


@pytest.mark.parametrize("spatial", [(30,), (6, 9, 7)])
def test_nearest_resize_on_sequences_and_video(spatial):
  """Every spatial axis is resized: segments of sequences, cubes of video."""
  images = jax.random.uniform(jax.random.key(1), (4, *spatial, 2))
  labels = mixjax.one_hot(jnp.arange(4) % 3, 3)
  key = jax.random.key(2)
  out, _ = mixjax.resizemix(key, images, labels, mode="elem", scale_range=(0.3, 0.7))
  params = mixjax.sample_resizemix_params(key, 4, spatial, mode="elem", scale_range=(0.3, 0.7))
  x, out, ndim = np.asarray(images), np.asarray(out), len(spatial)
  for i, box in enumerate(np.asarray(params.box)):
    region = tuple(slice(a, b) for a, b in zip(box[:ndim], box[ndim:], strict=True))
    want = _nearest_resize(x[int(params.partner[i])], tuple(box[ndim:] - box[:ndim]))
    np.testing.assert_array_equal(out[i][region], want)


def test_bad_method_raises():
  images, labels = _refs.random_batch(4, 8, 8)
  with pytest.raises(ValueError, match="`method` must be one of"):
    mixjax.resizemix(jax.random.key(0), images, labels, method="cubic")
  params = mixjax.sample_resizemix_params(jax.random.key(0), 4, (8, 8))
  with pytest.raises(ValueError, match="`method` must be one of"):
    mixjax.apply_resizemix(images, labels, params, method="bilinear")


def test_apply_resizemix_needs_params_with_a_box_for_this_batch():
  images, labels = _refs.random_batch(4, 8, 8)
  with pytest.raises(ValueError, match=r"`params.box` must be the box .*sample_resizemix_params"):
    mixjax.apply_resizemix(images, labels, mixjax.sample_mixup_params(jax.random.key(0), 4))
  params = mixjax.sample_resizemix_params(jax.random.key(0), 5, (8, 8))
  with pytest.raises(ValueError, match=r"`params.partner` must have shape \(4,\)"):
    mixjax.apply_resizemix(images, labels, params)
  with pytest.raises(TypeError, match=r"`params` must be a mixjax.MixParams"):
    mixjax.apply_resizemix(images, labels, params.box)
