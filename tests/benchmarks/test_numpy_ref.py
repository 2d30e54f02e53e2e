"""The NumPy baseline of the benchmarks computes what mixjax computes, given the same parameters.

`benchmarks/bench_ops.py` times `benchmarks/numpy_ref.py` against mixjax; these tests pin
that both produce the same batch for the same λ, partners and boxes, so the timings compare
the same math.
"""

import importlib.util
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import mixjax
from mixjax import MixParams

_PATH = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "numpy_ref.py"
_SPEC = importlib.util.spec_from_file_location("numpy_ref", _PATH)
numpy_ref = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(numpy_ref)

_B, _H, _W, _C, _K = 6, 9, 7, 3, 5
_TOL = {"rtol": 1e-6, "atol": 1e-6}


def _batch(seed=0):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(_B, _H, _W, _C)).astype(np.float32)
  y = np.eye(_K, dtype=np.float32)[rng.integers(0, _K, _B)]
  return x, y


def _to_numpy(params):
  box = None if params.box is None else np.asarray(params.box)
  return np.asarray(params.lam), np.asarray(params.partner), box


def _check_same(params, x, y):
  lam, partner, box = _to_numpy(params)
  want_x, want_y = jax.device_get(mixjax.apply_mix(jnp.asarray(x), jnp.asarray(y), params))
  got_x, got_y = numpy_ref.apply_mix(x, y, lam, partner, box, params.pairing)
  assert got_x.dtype == np.float32 and got_y.dtype == np.float32
  np.testing.assert_allclose(got_x, want_x, **_TOL)
  np.testing.assert_allclose(got_y, want_y, **_TOL)
  return want_x, want_y


@pytest.mark.parametrize("mode", ["batch", "elem"])
@pytest.mark.parametrize("pairing", ["permute", "flip", "roll"])
def test_blend_matches_mixup(mode, pairing):
  x, y = _batch()
  params = mixjax.sample_mixup_params(jax.random.key(1), _B, alpha=1.0, mode=mode, pairing=pairing)
  want_x, want_y = _check_same(params, x, y)
  lam, partner, _ = _to_numpy(params)
  got_x, got_y = numpy_ref.blend(x, y, lam, partner, pairing)
  np.testing.assert_allclose(got_x, want_x, **_TOL)
  np.testing.assert_allclose(got_y, want_y, **_TOL)


@pytest.mark.parametrize("mode", ["batch", "elem"])
@pytest.mark.parametrize("pairing", ["permute", "flip", "roll"])
def test_paste_matches_cutmix(mode, pairing):
  x, y = _batch()
  params = mixjax.sample_cutmix_params(
    jax.random.key(2), _B, (_H, _W), alpha=1.0, mode=mode, pairing=pairing
  )
  want_x, want_y = _check_same(params, x, y)
  _, partner, box = _to_numpy(params)
  got_x, got_y = numpy_ref.paste(x, y, partner, box, pairing)
  np.testing.assert_array_equal(got_x, want_x)  # Pasting copies pixels: exact.
  np.testing.assert_allclose(got_y, want_y, **_TOL)


@pytest.mark.parametrize("mode", ["batch", "elem"])
def test_apply_mix_matches_mixup_or_cutmix(mode):
  x, y = _batch()
  params = mixjax.sample_mixup_or_cutmix_params(
    jax.random.key(3), _B, (_H, _W), switch_prob=0.5, mode=mode
  )
  _check_same(params, x, y)


def test_apply_mix_handles_boxes_over_the_border():
  x, y = _batch()
  box = np.array(
    [[-3, -2, 4, 5], [5, 4, 20, 30], [0, 0, _H, _W], [6, 6, 2, 2], [3, 3, 3, 3], [1, 2, 8, 6]],
    np.int32,
  )
  lam = np.linspace(0.1, 1.0, _B).astype(np.float32)
  partner = np.array([2, 0, 1, 5, 3, 4], np.int32)
  params = MixParams(lam=jnp.asarray(lam), partner=jnp.asarray(partner), box=jnp.asarray(box))
  _check_same(params, x, y)


def test_self_weight_matches():
  lam = np.array([0.3, 1.0, 0.7, 0.5, 0.2, 0.9], np.float32)
  box = np.array(
    [[0, 0, 4, 4], [2, 1, 9, 7], [0, 0, 0, 0], [-1, -1, 3, 3], [5, 0, 9, 7], [1, 1, 2, 2]], np.int32
  )
  params = MixParams(lam=jnp.asarray(lam), partner=jnp.arange(_B), box=jnp.asarray(box))
  want = np.asarray(mixjax.self_weight(params, (_H, _W)))
  np.testing.assert_allclose(numpy_ref.self_weight(lam, box, _B, (_H, _W)), want, rtol=1e-7)


def test_sample_box_follows_mixjax_rule():
  rng = np.random.default_rng(0)
  lam = rng.uniform(size=1000).astype(np.float32)
  box = numpy_ref.sample_box(rng, lam, (_H, _W))
  assert box.dtype == np.int32 and box.shape == (1000, 4)
  assert (box[:, :2] >= 0).all() and (box[:, 2] <= _H).all() and (box[:, 3] <= _W).all()
  assert (box[:, 2] >= box[:, 0]).all() and (box[:, 3] >= box[:, 1]).all()
  # Unclipped, the box is floor(H·sqrt(1-λ)) by floor(W·sqrt(1-λ)).
  cut = np.sqrt(1 - lam)
  assert (box[:, 2] - box[:, 0] <= np.floor(_H * cut)).all()
  assert (box[:, 3] - box[:, 1] <= np.floor(_W * cut)).all()


@pytest.mark.parametrize("mode", ["batch", "elem"])
def test_sampling_ops_are_float32_and_keep_label_mass(mode):
  x, y = _batch()
  rng = np.random.default_rng(4)
  for op in (numpy_ref.mixup, numpy_ref.cutmix):
    mixed_x, mixed_y = op(rng, x, y, alpha=1.0, mode=mode)
    assert mixed_x.dtype == np.float32 and mixed_x.shape == x.shape
    assert mixed_y.dtype == np.float32
    np.testing.assert_allclose(mixed_y.sum(axis=1), 1.0, rtol=1e-6)


def test_alpha_zero_is_identity():
  x, y = _batch()
  rng = np.random.default_rng(5)
  for op in (numpy_ref.mixup, numpy_ref.cutmix):
    mixed_x, mixed_y = op(rng, x, y, alpha=0.0, mode="elem")
    np.testing.assert_array_equal(mixed_x, x)
    np.testing.assert_array_equal(mixed_y, y)
