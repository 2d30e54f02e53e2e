"""Tests for mixjax._apply: apply_mix and self_weight on hand-built MixParams."""

from __future__ import annotations

import dataclasses
import functools
import re

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized

import mixjax
from tests import _refs


def _batch(batch_size: int, feature_shape=(3,), num_classes: int = 4, seed: int = 0):
  key_x, key_y = jax.random.split(jax.random.key(seed))
  inputs = jax.random.normal(key_x, (batch_size, *feature_shape), jnp.float32)
  labels = mixjax.one_hot(jax.random.randint(key_y, (batch_size,), 0, num_classes), num_classes)
  return inputs, labels


class ApplyMixVariantsTest(chex.TestCase):
  @chex.variants(with_jit=True, without_jit=True, with_device=True)
  @parameterized.product(elem=(False, True))
  def test_hand_built_params(self, elem):
    inputs, labels = _batch(4, (2, 3))
    lam = jnp.array([0.25, 1.0, 0.0, 0.6]) if elem else jnp.float32(0.3)
    partner = jnp.array([2, 2, 0, 3], jnp.int32)  # Any gather works, not only permutations.
    params = mixjax.MixParams(lam=lam, partner=partner)
    out_x, out_y = self.variant(mixjax.apply_mix)(inputs, labels, params)
    np.testing.assert_allclose(out_x, _refs.blend(inputs, lam, np.asarray(partner)), atol=1e-6)
    np.testing.assert_allclose(out_y, _refs.blend(labels, lam, np.asarray(partner)), atol=1e-6)
    if elem:  # λ = 1 keeps the example, λ = 0 replaces it, both exactly.
      np.testing.assert_array_equal(out_x[1], inputs[1])
      np.testing.assert_array_equal(out_x[2], inputs[0])
      np.testing.assert_array_equal(out_y[2], labels[0])


@pytest.mark.parametrize(
  ("pairing", "partner"), [("flip", [4, 3, 2, 1, 0]), ("roll", [4, 0, 1, 2, 3])]
)
def test_apply_mix_flip_and_roll_equal_the_explicit_gather(pairing, partner):
  inputs, labels = _batch(5, (3,))
  lam = jnp.array([0.1, 0.4, 0.5, 0.8, 0.9])
  partner = jnp.array(partner, jnp.int32)
  read = mixjax.MixParams(lam=lam, partner=partner, pairing=pairing)
  gather = mixjax.MixParams(lam=lam, partner=partner, pairing="permute")
  chex.assert_trees_all_close(
    mixjax.apply_mix(inputs, labels, read), mixjax.apply_mix(inputs, labels, gather), atol=1e-7
  )
  box = jnp.array([1, 0, 3, 1], jnp.int32)  # The paste reads the partner the same way.
  images, _ = _batch(5, (4, 2, 3))
  chex.assert_trees_all_equal(
    mixjax.apply_mix(images, labels, dataclasses.replace(read, box=box)),
    mixjax.apply_mix(images, labels, dataclasses.replace(gather, box=box)),
  )


def test_apply_mix_with_hand_built_boxes():
  """Boxes hanging over the border, inverted or covering everything, on a 5 x 11 image."""
  images, labels = _refs.constant_batch(4, 5, 11)
  box = jnp.array([[-3, -2, 2, 4], [3, 9, 8, 20], [4, 4, 1, 1], [0, 0, 5, 11]], jnp.int32)
  params = mixjax.MixParams(lam=jnp.ones(4), partner=jnp.array([1, 2, 3, 0], jnp.int32), box=box)
  out_x, out_y = mixjax.apply_mix(images, labels, params)
  _refs.check_pixels_and_label_weights(out_x, out_y, np.asarray(params.partner))
  weight = mixjax.self_weight(params, (5, 11))
  np.testing.assert_array_equal(np.rint(np.asarray(weight) * 55), [55 - 8, 55 - 4, 55, 0])
  # A box over the whole image hands over the whole label, exactly.
  np.testing.assert_array_equal(out_y[3], labels[0])
  np.testing.assert_array_equal(out_x[3], images[0])


def test_apply_mix_box_with_blend():
  images, labels = _refs.random_batch(3, 4, 4)
  params = mixjax.MixParams(
    lam=jnp.array([0.5, 1.0, 0.25]),
    partner=jnp.array([2, 0, 1], jnp.int32),
    box=jnp.array([[0, 0, 2, 2], [1, 1, 3, 3], [0, 0, 0, 0]], jnp.int32),
  )
  out_x, out_y = mixjax.apply_mix(images, labels, params)
  ref_x, ref_y, _ = _refs.mix(images, labels, params)
  np.testing.assert_allclose(out_x, ref_x, rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(out_y, ref_y, rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(mixjax.self_weight(params, (4, 4)), [0.5 * 12 / 16, 12 / 16, 0.25])


@pytest.mark.parametrize("op", [mixjax.mixup, mixjax.cutmix])
def test_roll_reads_its_partners_by_a_gather(op):
  """`pairing="roll"` gathers `x[partner]` as `"permute"` does. With a `jnp.roll` (slices and
  a concatenate) in the blend's fusion, XLA:CPU computed the scalar λ's hash again for every
  pixel: mixup took 80x a copy at CIFAR size."""
  images, labels = _batch(8, (4, 4, 3))
  fn = jax.jit(functools.partial(op, mode="batch", pairing="roll"))
  lowered = fn.lower(jax.random.key(0), images, labels).as_text()
  assert "stablehlo.gather" in lowered
  # No concatenate along the batch (CutMix's box is one of four scalars).
  assert not re.search(r"stablehlo\.concatenate[^\n]*-> tensor<8x", lowered)


def test_self_weight_without_box_is_lambda():
  params = mixjax.MixParams(lam=jnp.float32(0.3), partner=jnp.arange(5, dtype=jnp.int32))
  np.testing.assert_array_equal(mixjax.self_weight(params), np.full(5, 0.3, np.float32))


@pytest.mark.parametrize("image_size", [(5, 11), (11, 11), (224, 224)])
def test_self_weight_is_the_kept_fraction_for_every_box_size(image_size):
  """Every box `(0, 0, h, w)`: weight within one ulp of (H·W - h·w) / (H·W), ends exact."""
  height, width = image_size
  hs, ws = np.meshgrid(np.arange(height + 1), np.arange(width + 1), indexing="ij")
  hs, ws = hs.ravel(), ws.ravel()
  zeros = np.zeros_like(hs)
  box = jnp.asarray(np.stack([zeros, zeros, hs, ws], axis=-1), jnp.int32)
  params = mixjax.MixParams(lam=jnp.float32(1.0), partner=jnp.zeros(len(hs), jnp.int32), box=box)
  weight = np.asarray(jax.jit(mixjax.self_weight, static_argnums=1)(params, image_size))
  exact = ((height * width - hs * ws) / (height * width)).astype(np.float32)
  np.testing.assert_array_max_ulp(weight, exact, maxulp=1)
  np.testing.assert_array_equal(weight[hs * ws == 0], 1.0)  # Nothing pasted: exactly 1.
  np.testing.assert_array_equal(weight[hs * ws == height * width], 0.0)  # All pasted: 0.


# ---------------------------------------------------------------------------------------
# Bad input


def test_self_weight_needs_image_size():
  params = mixjax.MixParams(lam=jnp.ones(2), partner=jnp.arange(2), box=jnp.zeros((2, 4), int))
  with pytest.raises(ValueError, match="`image_size` is required"):
    mixjax.self_weight(params)


def test_apply_mix_partner_shape_mismatch_raises():
  inputs, labels = _batch(4)
  params = mixjax.MixParams(lam=jnp.float32(0.5), partner=jnp.arange(3, dtype=jnp.int32))
  with pytest.raises(ValueError, match=r"`params.partner` must have shape \(4,\).*\(3,\)"):
    mixjax.apply_mix(inputs, labels, params)


def test_apply_mix_checks_its_inputs():
  inputs, labels = _batch(4, (5, 5, 1))
  box = mixjax.MixParams(lam=jnp.ones(4), partner=jnp.arange(4), box=jnp.zeros(4, jnp.int32))
  with pytest.raises(ValueError, match=r"`inputs` must be \[batch, \*spatial.*got shape \(4, 5\)"):
    mixjax.apply_mix(inputs[..., 0, 0], labels, box)
  with pytest.raises(TypeError, match=r"`inputs` must be floating.*int32"):
    mixjax.apply_mix(inputs.astype(jnp.int32), labels, box)
  with pytest.raises(ValueError, match=r"`labels` must be floating \[B, K\].*got shape \(4,\)"):
    mixjax.apply_mix(inputs, labels[:, 0], box)
  blend = mixjax.MixParams(lam=jnp.float32(0.5), partner=jnp.arange(4))
  with pytest.raises(ValueError, match=r"`inputs`\['b'\] has shape \(3,\).*`labels`, 4"):
    mixjax.apply_mix({"a": inputs, "b": jnp.zeros(3)}, labels, blend)


def test_apply_mix_checks_the_params():
  inputs, labels = _batch(4, (8, 8, 3))
  ones, partner = jnp.ones(4), jnp.arange(4)
  for params, error, match in [
    (None, TypeError, r"`params` must be a mixjax.MixParams .*got NoneType"),
    ((0.5, partner), TypeError, r"`params` must be a mixjax.MixParams .*got tuple"),
    (mixjax.MixParams(ones, jnp.arange(4.0)), TypeError, r"`params.partner` must be an integer"),
    (
      mixjax.MixParams(jnp.ones(3), partner),
      ValueError,
      r"`params.lam` must have shape \(\) or \(4,\)",
    ),
    (
      mixjax.MixParams(ones, partner, box=jnp.zeros(6, jnp.int32)),
      ValueError,
      r"`params.box` must have shape \(4,\) or \(4, 4\) to match `labels`.*got \(6,\)",
    ),
    (
      mixjax.MixParams(ones, partner, mask=jnp.zeros((8, 8))),
      TypeError,
      r"`params.mask` must be a boolean array, got dtype float32",
    ),
    (mixjax.MixParams(ones, partner, pairing="rev"), ValueError, r"`params.pairing` must be one"),
  ]:
    with pytest.raises(error, match=match):
      mixjax.apply_mix(inputs, labels, params)
  with pytest.raises(TypeError, match=r"`params` must be a mixjax.MixParams"):
    mixjax.self_weight(None)
  good = mixjax.MixParams(jnp.float32(0.5), np.arange(4)[::-1].copy(), mask=jnp.zeros((8, 8), bool))
  chex.assert_trees_all_close(
    mixjax.apply_mix(inputs, labels, good)[1], 0.5 * labels + 0.5 * labels[::-1]
  )
