"""Tests for mixjax._fmix: FMix masks, sampler and op."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized

import mixjax
from mixjax import _fmix
from tests import _refs


def _batch(batch_size=6, spatial=(8, 8), channels=2):
  values = jnp.arange(1.0, batch_size + 1.0).reshape((batch_size,) + (1,) * (len(spatial) + 1))
  pattern = jax.random.uniform(jax.random.key(1), (batch_size, *spatial, channels)) * 0.1
  return values + pattern, mixjax.one_hot(jnp.arange(batch_size), batch_size)


def test_kept_count_is_the_exact_lambda_quantile():
  lam = jnp.array([0.0, 0.013, 0.25, 0.5, 0.77, 0.999, 1.0])
  for spatial in [(8, 8), (5, 11), (30,), (4, 5, 6)]:
    masks = mixjax.fmix_mask(jax.random.key(0), lam, spatial)
    assert masks.shape == (len(lam), *spatial) and masks.dtype == jnp.bool_
    pixels = int(np.prod(spatial))
    kept = pixels - np.asarray(masks).reshape(len(lam), -1).sum(axis=1)
    np.testing.assert_array_equal(kept, np.round(np.asarray(lam) * pixels).astype(int))


def test_masks_are_low_frequency():
  """Neighbours agree far more often than in a random mask with the same count."""
  masks = np.asarray(mixjax.fmix_mask(jax.random.key(2), jnp.full((20,), 0.5), (32, 32)))
  fmix_changes = np.mean(masks[:, 1:] != masks[:, :-1])
  shuffled = np.random.default_rng(0).permuted(masks.reshape(20, -1), axis=1).reshape(masks.shape)
  random_changes = np.mean(shuffled[:, 1:] != shuffled[:, :-1])
  assert random_changes > 0.4 and fmix_changes < 0.15
  smoother = np.asarray(
    mixjax.fmix_mask(jax.random.key(2), jnp.full((20,), 0.5), (32, 32), decay_power=5.0)
  )
  assert np.mean(smoother[:, 1:] != smoother[:, :-1]) < fmix_changes


class FmixVariantsTest(chex.TestCase):
  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.product(mode=("batch", "elem"), pairing=("permute", "roll"))
  def test_matches_reference_from_params(self, mode, pairing):
    images, labels = _batch()
    key = jax.random.key(3)
    op = lambda k, x, y: mixjax.fmix(k, x, y, mode=mode, pairing=pairing)
    out, mixed = self.variant(op)(key, images, labels)
    params = mixjax.sample_fmix_params(key, 6, (8, 8), mode=mode, pairing=pairing)
    pasted = np.broadcast_to(np.asarray(params.mask), (6, 8, 8))
    partner = np.asarray(params.partner)
    if pairing == "roll":
      np.testing.assert_array_equal(partner, [5, 0, 1, 2, 3, 4])
    want = np.where(pasted[..., None], np.asarray(images)[partner], np.asarray(images))
    np.testing.assert_array_equal(out, want)
    kept = 1.0 - pasted.reshape(6, -1).mean(axis=1)[:, None]
    want_labels = kept * labels + (1 - kept) * np.asarray(labels)[partner]
    np.testing.assert_allclose(mixed, want_labels, atol=1e-6)
    if mode == "elem":
      assert len({m.tobytes() for m in pasted}) > 1  # One mask per example.


def test_alpha_or_probability_zero_is_identity_and_dense_maps_follow():
  images, labels = _batch()
  for kwargs in ({"alpha": 0.0}, {"probability": 0.0}):
    out, mixed = mixjax.fmix(jax.random.key(0), images, labels, mode="elem", **kwargs)
    np.testing.assert_array_equal(_refs.bits(out), _refs.bits(images))
    np.testing.assert_array_equal(_refs.bits(mixed), _refs.bits(labels))
  maps = jnp.broadcast_to(jnp.arange(6)[:, None, None], (6, 8, 8))
  out, mixed_maps = mixjax.fmix(jax.random.key(1), images, maps, mode="elem")
  np.testing.assert_array_equal(mixed_maps, np.floor(np.asarray(out)[..., 0]).astype(int) - 1)


def test_traced_alpha_does_not_retrace_and_bad_traced_values_give_nan():
  images, labels = _batch()
  fn = jax.jit(lambda a, d: mixjax.fmix(jax.random.key(0), images, labels, alpha=a, decay_power=d))
  for a, d in [(0.5, 3.0), (2.0, 2.0)]:
    assert np.all(np.isfinite(fn(jnp.float32(a), jnp.float32(d))[1]))
  assert fn._cache_size() == 1
  assert np.all(np.isnan(fn(jnp.float32(-1.0), jnp.float32(3.0))[1]))
  assert np.all(np.isnan(fn(jnp.float32(1.0), jnp.float32(0.0))[1]))


@pytest.mark.parametrize(
  "kwargs, match",
  [
    ({"decay_power": 0.0}, "`decay_power` must be > 0"),
    ({"decay_power": "3"}, "`decay_power` must be a number"),
    ({"alpha": -1.0}, "`alpha` must be finite and >= 0"),
    ({"probability": 1.5}, r"`probability` must be in \[0, 1\]"),
    ({"mode": "pixel"}, "`mode` must be one of"),
  ],
)
def test_bad_arguments_raise(kwargs, match):
  images, labels = _batch()
  with pytest.raises(ValueError, match=match):
    mixjax.fmix(jax.random.key(0), images, labels, **kwargs)


@pytest.mark.parametrize(
  "kwargs, match",
  [
    ({"lam": 2.0}, r"`lam` must be in \[0, 1\]"),
    ({"lam": jnp.ones((2, 2))}, "`lam` must be a scalar or"),
    ({"image_size": (0, 8)}, "`image_size` must be"),
    ({"decay_power": -3.0}, "`decay_power` must be > 0"),
  ],
)
def test_fmix_mask_checks_its_arguments(kwargs, match):
  args = {"lam": 0.5, "image_size": (8, 8), **kwargs}
  decay = {"decay_power": args.pop("decay_power")} if "decay_power" in args else {}
  with pytest.raises(ValueError, match=match):
    mixjax.fmix_mask(jax.random.key(0), args["lam"], args["image_size"], **decay)


def _transitions(mask):
  """The fraction of horizontally adjacent pixel pairs that differ (0 for smooth masks)."""
  mask = np.asarray(mask)
  return float(np.mean(mask[..., 1:] != mask[..., :-1]))


def test_a_steep_decay_still_gives_smooth_finite_masks():
  """224^δ overflows float32 beyond δ ≈ 16: the spectrum is rescaled there, not inf/NaN."""
  for size, decay in (((224, 224), 20.0), ((32, 32), 40.0)):
    scale = np.asarray(_fmix._spectrum_scale(size, decay))
    assert np.all(np.isfinite(scale)) and scale.max() > 0
    mask = mixjax.fmix_mask(jax.random.key(0), jnp.float32(0.5), size, decay_power=decay)
    assert int(np.sum(mask)) == np.prod(size) // 2
    smooth = mixjax.fmix_mask(jax.random.key(0), jnp.float32(0.5), size, decay_power=3.0)
    assert _transitions(mask) <= _transitions(smooth)
  # Below the switch the spectrum is the plain power, as it always was.
  freq = np.maximum(
    np.hypot(*np.meshgrid(np.fft.fftfreq(8), np.fft.rfftfreq(8), indexing="ij")), 1 / 8
  )
  np.testing.assert_array_equal(
    _fmix._spectrum_scale((8, 8), 3.0), jnp.power(jnp.asarray(freq, jnp.float32), -3.0)
  )


def test_top_count_is_exact_with_ties():
  grey = jnp.array([[1.0, 2.0, 2.0, 2.0, 0.0], [3.0, 3.0, 3.0, 3.0, 3.0]])
  for count in range(6):
    top = np.asarray(_fmix._top_count(grey, jnp.array([count, count])))
    np.testing.assert_array_equal(top.sum(axis=1), [count, count])
    ranked = np.argsort(-np.asarray(grey), axis=1, kind="stable")[:, :count]
    np.testing.assert_array_equal(np.sort(np.nonzero(top[0])[0]), np.sort(ranked[0]))


def test_top_count_is_the_stable_descending_order_on_any_float32():
  """The bitwise select keeps exactly the first `count` of a stable descending sort, with
  ties, ±0, ±inf and the largest floats in the row."""
  rng = np.random.default_rng(0)
  grey = rng.normal(size=(16, 200)).astype(np.float32)
  grey[:, ::7] = np.round(grey[:, ::7])  # many ties
  grey[:, 3], grey[:, 5], grey[:, 8], grey[:, 9] = 0.0, -0.0, -np.inf, 3e38
  grey[:, 10] = np.inf
  count = rng.integers(0, 201, size=16).astype(np.int32)
  count[:2] = 0, 200
  top = np.asarray(_fmix._top_count(jnp.asarray(grey), jnp.asarray(count)))
  want = np.zeros_like(top)
  for row, order in enumerate(np.argsort(-grey, axis=1, kind="stable")):
    want[row, order[: count[row]]] = True
  np.testing.assert_array_equal(top, want)
