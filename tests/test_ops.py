"""Tests for mixjax._ops: mixup, cutmix and mixup_or_cutmix.

Each op is compared with a reference rebuilt from the parameters its public sampler draws
with the same key, eagerly, under jit, on a device, under vmap, and inside pmap and
shard_map (one shard per fake CPU device, see tests/conftest.py).
"""

from __future__ import annotations

import functools
import inspect

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
from absl.testing import parameterized
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from jax.sharding import PartitionSpec as P

import mixjax
from tests import _refs

MODES = ("batch", "elem")
PAIRINGS = ("permute", "flip", "roll")
DTYPES = (jnp.float32, jnp.bfloat16, jnp.float16)
_HYPOTHESIS = settings(max_examples=15, deadline=None)
_HYPOTHESIS_LIGHT = settings(max_examples=10, deadline=None)
# A few image sizes, so that hypothesis mostly varies the batch: every new shape compiles.
# 5 x 11 and 11 x 11 are sizes where (H·W)·(1/(H·W)) != 1 in float32.
_IMAGE_SIZES = [(1, 1), (1, 6), (5, 11), (8, 8), (11, 11)]
_bits = _refs.bits


def _mixup(mode: str, pairing: str, **kwargs):
  """mixup with its static arguments bound.

  Most tests run the ops eagerly: JAX then compiles each primitive once per shape and
  reuses it across tests, which is much cheaper than compiling the whole op (its Beta
  sampler costs over a second) for every batch size hypothesis draws. The variant tests
  cover jit.
  """
  return functools.partial(mixjax.mixup, mode=mode, pairing=pairing, **kwargs)


def _cutmix(mode: str, pairing: str, **kwargs):
  return functools.partial(mixjax.cutmix, mode=mode, pairing=pairing, **kwargs)


def _mixup_or_cutmix(mode: str, pairing: str, **kwargs):
  return functools.partial(mixjax.mixup_or_cutmix, mode=mode, pairing=pairing, **kwargs)


def _batch(batch_size: int, feature_shape=(3,), num_classes: int = 4, seed: int = 0):
  key_x, key_y = jax.random.split(jax.random.key(seed))
  inputs = jax.random.normal(key_x, (batch_size, *feature_shape), jnp.float32)
  labels = mixjax.one_hot(jax.random.randint(key_y, (batch_size,), 0, num_classes), num_classes)
  return inputs, labels


def _reference_mixup(key, inputs, labels, *, alpha, mode, pairing):
  """Mixup rebuilt from the sampled λ and partners (same key, same split)."""
  batch_size = labels.shape[0]
  params = mixjax.sample_mixup_params(key, batch_size, alpha=alpha, mode=mode, pairing=pairing)
  partner = np.asarray(params.partner)
  mix = lambda x: _refs.blend(x, params.lam, partner)
  return jax.tree.map(mix, inputs), mix(labels), params


# ---------------------------------------------------------------------------------------
# jit / eager / device variants


class MixupVariantsTest(chex.TestCase):
  @chex.variants(with_jit=True, without_jit=True, with_device=True)
  @parameterized.product(mode=MODES, pairing=PAIRINGS)
  def test_matches_reference(self, mode, pairing):
    inputs, labels = _batch(7, (4, 3))
    key = jax.random.key(11)
    fn = self.variant(functools.partial(mixjax.mixup, mode=mode, pairing=pairing))
    out_x, out_y = fn(key, inputs, labels, alpha=0.7)
    ref_x, ref_y, _ = _reference_mixup(key, inputs, labels, alpha=0.7, mode=mode, pairing=pairing)
    chex.assert_trees_all_equal_shapes_and_dtypes((out_x, out_y), (inputs, labels))
    np.testing.assert_allclose(out_x, ref_x, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out_y, ref_y, rtol=1e-6, atol=1e-6)
    assert not np.allclose(out_x, inputs)  # Something was mixed.

  @chex.variants(with_jit=True, without_jit=True, with_device=True)
  @parameterized.parameters(("batch", "permute"), ("elem", "flip"))  # All four: hypothesis below.
  def test_alpha_zero_is_identity(self, mode, pairing):
    inputs = {"x": jnp.array([[0.0, -0.0, jnp.inf], [jnp.nan, -jnp.inf, 1.5], [2.0, -3.0, 7.0]])}
    labels = jnp.array([[1.0, 0.0], [0.3, 0.7], [0.0, 1.0]])
    fn = self.variant(functools.partial(mixjax.mixup, mode=mode, pairing=pairing))
    out_x, out_y = fn(jax.random.key(0), inputs, labels, alpha=0.0)
    np.testing.assert_array_equal(_bits(out_x["x"]), _bits(inputs["x"]))
    np.testing.assert_array_equal(_bits(out_y), _bits(labels))


class CutMixVariantsTest(chex.TestCase):
  @chex.variants(with_jit=True, without_jit=True, with_device=True)
  @parameterized.product(mode=MODES, pairing=PAIRINGS)
  def test_cutmix_matches_reference(self, mode, pairing):
    images, labels = _refs.random_batch(5, 9, 7)
    key = jax.random.key(3)
    out_x, out_y = self.variant(_cutmix(mode, pairing))(key, images, labels, alpha=1.0)
    params = mixjax.sample_cutmix_params(key, 5, (9, 7), alpha=1.0, mode=mode, pairing=pairing)
    ref_x, ref_y, masks = _refs.mix(images, labels, params)
    chex.assert_trees_all_equal_shapes_and_dtypes((out_x, out_y), (images, labels))
    np.testing.assert_array_equal(out_x, ref_x)  # Pixels are copied, never blended.
    np.testing.assert_allclose(out_y, ref_y, rtol=1e-6, atol=1e-6)
    assert masks.any()

  @chex.variants(with_jit=True, without_jit=True, with_device=True)
  @parameterized.product(mode=MODES, pairing=("permute",))
  def test_mixup_or_cutmix_matches_reference(self, mode, pairing):
    images, labels = _refs.random_batch(6, 8, 8)
    key = jax.random.key(5)
    fn = self.variant(_mixup_or_cutmix(mode, pairing))
    out_x, out_y = fn(key, images, labels, mixup_alpha=0.5, cutmix_alpha=1.0, switch_prob=0.5)
    params = mixjax.sample_mixup_or_cutmix_params(
      key,
      6,
      (8, 8),
      mixup_alpha=0.5,
      cutmix_alpha=1.0,
      switch_prob=0.5,
      mode=mode,
      pairing=pairing,
    )
    ref_x, ref_y, _ = _refs.mix(images, labels, params)
    chex.assert_trees_all_equal_shapes_and_dtypes((out_x, out_y), (images, labels))
    np.testing.assert_allclose(out_x, ref_x, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out_y, ref_y, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------------------
# Properties shared by the three ops


@_HYPOTHESIS_LIGHT
@given(
  batch_size=st.integers(1, 9),
  mode=st.sampled_from(MODES),
  pairing=st.sampled_from(PAIRINGS),
  seed=st.integers(0, 2**31 - 1),
)
def test_alpha_zero_identity_with_special_values(batch_size, mode, pairing, seed):
  """α = 0 returns the batch bit for bit, -0.0, ±inf, NaN and subnormals included.

  5·11 = 55 is an image size where (H·W)·(1/(H·W)) != 1 in float32.
  """
  images, labels = _refs.random_batch(batch_size, 5, 11, channels=2, seed=seed)
  special = jnp.array([-0.0, jnp.inf, -jnp.inf, jnp.nan, 0.0, 1e-45])
  images = images.at[:, 0, :3, :].set(special.reshape(3, 2))
  labels = labels * 0.5 + 0.5 / labels.shape[1]
  key = jax.random.key(seed)
  for out_x, out_y in (
    _mixup(mode, pairing, alpha=0.0)(key, images, labels),
    _cutmix(mode, pairing, alpha=0.0)(key, images, labels),
    _mixup_or_cutmix(mode, pairing, mixup_alpha=0.0, cutmix_alpha=0.0)(key, images, labels),
  ):
    np.testing.assert_array_equal(_bits(out_x), _bits(images))
    np.testing.assert_array_equal(_bits(out_y), _bits(labels))


@pytest.mark.parametrize(
  "op",
  [_mixup("batch", "permute"), _mixup("elem", "permute"), _cutmix("elem", "permute")]
  + [_mixup_or_cutmix("elem", "permute")],
  ids=["mixup-batch", "mixup-elem", "cutmix-elem", "mixup_or_cutmix-elem"],
)
def test_same_key_same_output_and_keys_differ(op):
  images, labels = _refs.random_batch(6, 8, 8)
  chex.assert_trees_all_equal(
    op(jax.random.key(4), images, labels), op(jax.random.key(4), images, labels)
  )
  outputs = [np.asarray(op(jax.random.key(seed), images, labels)[0]) for seed in range(5)]
  for i in range(5):
    for j in range(i):
      assert not np.allclose(outputs[i], outputs[j])


@pytest.mark.parametrize(
  "op",
  [_mixup(mode, pairing, alpha=0.5) for mode in MODES for pairing in PAIRINGS]
  + [_cutmix("batch", "permute"), _mixup_or_cutmix("elem", "flip")],
  ids=[f"mixup-{m}-{p}" for m in MODES for p in PAIRINGS]
  + ["cutmix-batch", "mixup_or_cutmix-elem"],
)
def test_vmap_over_keys_equals_loop(op):
  keys = jax.random.split(jax.random.key(3), 3)
  images = jax.random.uniform(jax.random.key(0), (3, 4, 5, 5, 2))
  labels = jax.nn.softmax(jax.random.normal(jax.random.key(1), (3, 4, 3)))
  out_x, out_y = jax.jit(jax.vmap(op))(keys, images, labels)
  for i in range(3):
    loop_x, loop_y = op(keys[i], images[i], labels[i])
    np.testing.assert_allclose(out_x[i], loop_x, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out_y[i], loop_y, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------------------
# mixup


@_HYPOTHESIS
@given(
  batch_size=st.integers(1, 9),
  feature_shape=st.sampled_from([(3,), (4, 4, 1)]),
  mode=st.sampled_from(MODES),
  pairing=st.sampled_from(PAIRINGS),
  alpha=st.sampled_from([0.2, 1.0, 4.0]),
  seed=st.integers(0, 2**31 - 1),
)
def test_reconstruction_convexity_and_label_mass(
  batch_size, feature_shape, mode, pairing, alpha, seed
):
  inputs, labels = _batch(batch_size, feature_shape, seed=seed)
  key = jax.random.key(seed)
  out_x, out_y = _mixup(mode, pairing)(key, inputs, labels, alpha=alpha)
  ref_x, ref_y, params = _reference_mixup(
    key, inputs, labels, alpha=alpha, mode=mode, pairing=pairing
  )
  np.testing.assert_allclose(out_x, ref_x, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(out_y, ref_y, rtol=1e-5, atol=1e-6)
  # Each output lies between the example and its partner, elementwise.
  x, x_partner = np.asarray(inputs), np.asarray(inputs)[np.asarray(params.partner)]
  out = np.asarray(out_x)
  assert np.all(out >= np.minimum(x, x_partner) - 1e-6)
  assert np.all(out <= np.maximum(x, x_partner) + 1e-6)
  np.testing.assert_allclose(np.sum(out_y, axis=-1), np.ones(batch_size), atol=1e-6)
  assert np.all(np.asarray(out_y) >= 0)


def test_raw_uint32_keys_work_like_typed_keys():
  inputs, labels = _batch(8, (5,))
  run = _mixup("elem", "permute")
  chex.assert_trees_all_equal(
    run(jax.random.PRNGKey(2), inputs, labels), run(jax.random.key(2), inputs, labels)
  )


def test_elem_mode_gives_one_lambda_per_example():
  # With constant rows x_i = i, the mixed row i is λ_i·i + (1-λ_i)·(B-1-i) under flip,
  # so λ_i can be read back from the output.
  batch_size = 6
  inputs = jnp.broadcast_to(jnp.arange(batch_size, dtype=jnp.float32)[:, None], (batch_size, 3))
  labels = mixjax.one_hot(jnp.arange(batch_size), batch_size)
  out_x, out_y = _mixup("elem", "flip")(jax.random.key(4), inputs, labels)
  own = np.asarray(out_y)[np.arange(batch_size), np.arange(batch_size)]
  assert len(np.unique(np.round(own, 6))) == batch_size
  i = np.arange(batch_size, dtype=np.float64)
  np.testing.assert_allclose(out_x[:, 0], own * i + (1 - own) * i[::-1], atol=1e-5)
  _, out_y_batch = _mixup("batch", "flip")(jax.random.key(4), inputs, labels)
  own_batch = np.asarray(out_y_batch)[np.arange(batch_size), np.arange(batch_size)]
  np.testing.assert_array_equal(own_batch, np.full(batch_size, own_batch[0]))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: jnp.dtype(d).name)
@pytest.mark.parametrize("mode", MODES)
def test_dtype_is_kept(dtype, mode):
  inputs, labels = _batch(6, (4, 2))
  inputs = inputs.astype(dtype)
  key = jax.random.key(2)
  out_x, out_y = _mixup(mode, "permute")(key, {"a": inputs}, labels.astype(dtype))
  chex.assert_type([out_x["a"], out_y], [dtype, dtype])
  params = mixjax.sample_mixup_params(key, 6, mode=mode)
  # The blend happens in float32 and is rounded once to `dtype`.
  expected = _refs.blend(inputs.astype(jnp.float32), params.lam, np.asarray(params.partner))
  tolerance = float(jnp.finfo(dtype).eps)
  np.testing.assert_allclose(
    np.asarray(out_x["a"], np.float64), expected, rtol=tolerance, atol=tolerance
  )


@pytest.mark.parametrize("pairing", PAIRINGS)
def test_batch_of_one_and_odd_batches(pairing):
  inputs, labels = _batch(1, (3,))
  out_x, out_y = _mixup("elem", pairing)(jax.random.key(0), inputs, labels)
  np.testing.assert_allclose(out_x, inputs, rtol=1e-6)  # The only partner is itself.
  np.testing.assert_allclose(out_y, labels, rtol=1e-6)
  inputs, labels = _batch(5, (3,))
  out_x, _ = _mixup("batch", "flip")(jax.random.key(0), inputs, labels)
  np.testing.assert_allclose(out_x[2], inputs[2], rtol=1e-6)  # The middle one flips onto itself.


def test_pytree_leaves_share_lambda_and_partner():
  batch_size = 7
  values = jnp.arange(1.0, batch_size + 1.0)
  inputs = {
    "image": jnp.broadcast_to(values[:, None, None, None], (batch_size, 4, 4, 3)),
    "vector": values,
    "nested": (values[:, None] * jnp.ones((1, 2)),),
  }
  labels = mixjax.one_hot(jnp.arange(batch_size) % 3, 3)
  key = jax.random.key(9)
  for mode in MODES:
    out_x, _ = _mixup(mode, "permute")(key, inputs, labels)
    chex.assert_trees_all_equal_shapes_and_dtypes(out_x, inputs)
    vector = np.asarray(out_x["vector"])
    image = np.broadcast_to(vector[:, None, None, None], (batch_size, 4, 4, 3))
    np.testing.assert_allclose(out_x["image"], image)
    np.testing.assert_allclose(out_x["nested"][0], image[:, 0, 0, :2])
    ref_x, _, _ = _reference_mixup(key, inputs, labels, alpha=1.0, mode=mode, pairing="permute")
    np.testing.assert_allclose(vector, ref_x["vector"], rtol=1e-6)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pairing", PAIRINGS)
def test_gradient_is_the_lambda_weights(mode, pairing):
  """d/dx_j Σ c·x' = λ_j c_j + Σ_{i: p(i) = j} (1-λ_i) c_i."""
  batch_size = 5
  inputs, labels = _batch(batch_size, (3,))
  cotangent = jax.random.normal(jax.random.key(1), inputs.shape)
  key = jax.random.key(6)
  loss = lambda x: jnp.sum(cotangent * _mixup(mode, pairing)(key, x, labels)[0])
  grad = np.asarray(jax.grad(loss)(inputs))
  params = mixjax.sample_mixup_params(key, batch_size, mode=mode, pairing=pairing)
  lam = np.broadcast_to(np.asarray(params.lam, np.float64), (batch_size,))[:, None]
  c = np.asarray(cotangent, np.float64)
  expected = lam * c
  np.add.at(expected, np.asarray(params.partner), (1 - lam) * c)
  assert np.all(np.abs(grad) > 0)
  np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-6)


def test_no_retrace_when_key_or_alpha_changes():
  @jax.jit
  @chex.assert_max_traces(n=1)
  def step(key, inputs, labels, alpha):
    return mixjax.mixup(key, inputs, labels, alpha=alpha, mode="elem")

  inputs, labels = _batch(6)
  outputs = [
    step(jax.random.key(i), inputs, labels, alpha) for i, alpha in enumerate((0.2, 1.0, 0.0, 3.5))
  ]
  chex.assert_trees_all_equal(outputs[2], (inputs, labels))  # The traced α = 0 still is exact.
  assert not np.allclose(outputs[0][0], outputs[1][0])


# ---------------------------------------------------------------------------------------
# cutmix and mixup_or_cutmix


@_HYPOTHESIS
@given(
  batch_size=st.integers(1, 9),
  image_size=st.sampled_from(_IMAGE_SIZES),
  mode=st.sampled_from(MODES),
  pairing=st.sampled_from(PAIRINGS),
  alpha=st.sampled_from([0.3, 1.0]),
  seed=st.integers(0, 2**31 - 1),
)
def test_cutmix_pixels_come_from_self_or_partner(
  batch_size, image_size, mode, pairing, alpha, seed
):
  height, width = image_size
  images, labels = _refs.constant_batch(batch_size, height, width)
  key = jax.random.key(seed)
  out_x, out_y = _cutmix(mode, pairing, alpha=alpha)(key, images, labels)
  params = mixjax.sample_cutmix_params(
    key, batch_size, (height, width), alpha=alpha, mode=mode, pairing=pairing
  )
  _refs.check_pixels_and_label_weights(out_x, out_y, np.asarray(params.partner))
  ref_x, ref_y, _ = _refs.mix(images, labels, params)
  np.testing.assert_array_equal(out_x, ref_x)
  np.testing.assert_allclose(out_y, ref_y, atol=1e-6)


@_HYPOTHESIS
@given(
  batch_size=st.integers(1, 9),
  mode=st.sampled_from(MODES),
  pairing=st.sampled_from(PAIRINGS),
  switch_prob=st.sampled_from([0.0, 0.3, 1.0]),
  seed=st.integers(0, 2**31 - 1),
)
def test_mixup_or_cutmix_reconstruction(batch_size, mode, pairing, switch_prob, seed):
  # The image shape of test_alpha_zero_identity_with_special_values (and one of
  # _IMAGE_SIZES), so that the eager primitives compiled for a batch size are reused.
  images, labels = _refs.random_batch(batch_size, 5, 11, channels=2, seed=seed)
  key = jax.random.key(seed)
  op = _mixup_or_cutmix(mode, pairing, mixup_alpha=0.4, cutmix_alpha=1.0, switch_prob=switch_prob)
  out_x, out_y = op(key, images, labels)
  params = mixjax.sample_mixup_or_cutmix_params(
    key,
    batch_size,
    (5, 11),
    mixup_alpha=0.4,
    cutmix_alpha=1.0,
    switch_prob=switch_prob,
    mode=mode,
    pairing=pairing,
  )
  ref_x, ref_y, _ = _refs.mix(images, labels, params)
  np.testing.assert_allclose(out_x, ref_x, rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(out_y, ref_y, rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(np.sum(out_y, -1), np.ones(batch_size), atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_switch_prob_zero_is_pure_mixup(mode):
  batch_size = 8
  images, labels = _refs.constant_batch(batch_size, 6, 6)
  for seed in range(3):
    op = _mixup_or_cutmix(mode, "permute", switch_prob=0.0)
    out_x, out_y = op(jax.random.key(seed), images, labels)
    out_x = np.asarray(out_x)
    # Nothing is pasted: each output image is one constant, the λ-blend of two constants.
    np.testing.assert_array_equal(out_x, np.broadcast_to(out_x[:, :1, :1, :1], out_x.shape))
    partner = np.asarray(
      mixjax.sample_mixup_or_cutmix_params(
        jax.random.key(seed), batch_size, (6, 6), switch_prob=0.0, mode=mode
      ).partner
    )
    own = np.asarray(out_y)[np.arange(batch_size), np.arange(batch_size)]
    values = np.arange(1.0, batch_size + 1.0)
    np.testing.assert_allclose(
      out_x[:, 0, 0, 0], own * values + (1 - own) * values[partner], rtol=1e-5
    )
    moved = partner != np.arange(batch_size)
    assert np.all(own[moved] < 1.0)


@pytest.mark.parametrize("mode", MODES)
def test_switch_prob_one_is_pure_cutmix(mode):
  batch_size = 8
  images, labels = _refs.constant_batch(batch_size, 7, 5)
  for seed in range(3):
    key = jax.random.key(seed)
    out_x, out_y = _mixup_or_cutmix(mode, "permute", switch_prob=1.0)(key, images, labels)
    params = mixjax.sample_mixup_or_cutmix_params(
      key, batch_size, (7, 5), switch_prob=1.0, mode=mode
    )
    _refs.check_pixels_and_label_weights(out_x, out_y, np.asarray(params.partner))


@pytest.mark.parametrize("switch_prob", [0.25, 0.7])
def test_cutmix_fraction_is_switch_prob_in_elem_mode(switch_prob):
  """Read each example's choice off the output: CutMix copies pixels, mixup blends them."""
  batch_size = 2000
  images, labels = _refs.constant_batch(batch_size, 4, 4, channels=1)
  op = _mixup_or_cutmix("elem", "permute", switch_prob=switch_prob)
  out_x, _ = op(jax.random.key(7), images, labels)
  partner = np.asarray(
    mixjax.sample_mixup_or_cutmix_params(
      jax.random.key(7), batch_size, (4, 4), switch_prob=switch_prob, mode="elem"
    ).partner
  )
  moved = partner != np.arange(batch_size)
  values = np.arange(1.0, batch_size + 1.0)[:, None, None, None]
  copied = np.all((out_x == values) | (out_x == values[partner]), axis=(1, 2, 3))[moved]
  assert scipy.stats.binomtest(int(copied.sum()), int(moved.sum()), switch_prob).pvalue > 1e-3


def test_batch_mode_switch_is_one_choice_for_the_batch():
  batch_size = 6
  images, labels = _refs.constant_batch(batch_size, 4, 4, channels=1)
  values = np.arange(1.0, batch_size + 1.0)[:, None, None, None]
  kinds = set()
  for seed in range(12):
    key = jax.random.key(seed)
    out_x, _ = _mixup_or_cutmix("batch", "flip")(key, images, labels)
    copied = np.all((out_x == values) | (out_x == values[::-1]), axis=(1, 2, 3))
    # The middle of an odd batch maps onto itself; with B = 6 every example has a partner.
    assert copied.all() or not copied.any()
    kinds.add(bool(copied.all()))
  assert kinds == {True, False}


@pytest.mark.parametrize(
  "dtype", (jnp.float32, jnp.bfloat16, jnp.float16), ids=lambda d: jnp.dtype(d).name
)
def test_dtype_is_kept_and_pixels_are_copied_exactly(dtype):
  images, labels = _refs.random_batch(5, 6, 6)
  images = images.astype(dtype)
  key = jax.random.key(1)
  out_x, out_y = _cutmix("elem", "permute")(key, images, labels)
  chex.assert_type([out_x, out_y], [dtype, jnp.float32])
  params = mixjax.sample_cutmix_params(key, 5, (6, 6), mode="elem")
  masks = _refs.box_masks(params.box, 5, 6, 6)[..., None]
  expected = np.where(masks, np.asarray(images)[np.asarray(params.partner)], np.asarray(images))
  np.testing.assert_array_equal(_bits(out_x), _bits(expected))
  out_x, _ = _mixup_or_cutmix("elem", "permute")(key, images, labels)
  chex.assert_type(out_x, dtype)


@pytest.mark.parametrize("op", ["cutmix", "mixup_or_cutmix"])
@pytest.mark.parametrize("mode", MODES)
def test_gradient_follows_the_masks(op, mode):
  """d/dx_j Σ c·x' = c_j·λ_j·(1 - m_j) + Σ_{i: p(i) = j} c_i·(m_i + (1 - m_i)(1 - λ_i))."""
  batch_size, height, width = 5, 6, 7
  images, labels = _refs.random_batch(batch_size, height, width)
  cotangent = jax.random.normal(jax.random.key(1), images.shape)
  key = jax.random.key(8)
  if op == "cutmix":
    fn = _cutmix(mode, "permute")
    params = mixjax.sample_cutmix_params(key, batch_size, (height, width), mode=mode)
  else:
    fn = _mixup_or_cutmix(mode, "permute", switch_prob=0.5)
    params = mixjax.sample_mixup_or_cutmix_params(key, batch_size, (height, width), mode=mode)
  grad = np.asarray(jax.grad(lambda x: jnp.sum(cotangent * fn(key, x, labels)[0]))(images))
  lam = np.broadcast_to(np.asarray(params.lam, np.float64), (batch_size,))[:, None, None, None]
  masks = _refs.box_masks(params.box, batch_size, height, width)[..., None].astype(np.float64)
  c = np.asarray(cotangent, np.float64)
  expected = c * lam * (1 - masks)
  np.add.at(expected, np.asarray(params.partner), c * (masks + (1 - masks) * (1 - lam)))
  np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-6)
  assert np.any(grad != 0)


def test_elem_mode_gives_each_example_its_own_box():
  params = mixjax.sample_cutmix_params(jax.random.key(0), 16, (32, 32), mode="elem")
  assert len({tuple(b) for b in np.asarray(params.box).tolist()}) > 8
  images, labels = _refs.constant_batch(16, 32, 32, channels=1)
  _, out_y = _cutmix("elem", "permute")(jax.random.key(0), images, labels)
  own = np.asarray(out_y)[np.arange(16), np.arange(16)]
  assert len(np.unique(own)) > 8


def test_no_retrace_when_key_alpha_or_switch_prob_changes():
  @jax.jit
  @chex.assert_max_traces(n=1)
  def cutmix_step(key, images, labels, alpha):
    return mixjax.cutmix(key, images, labels, alpha=alpha)

  @jax.jit
  @chex.assert_max_traces(n=1)
  def switch_step(key, images, labels, mixup_alpha, cutmix_alpha, switch_prob):
    return mixjax.mixup_or_cutmix(
      key,
      images,
      labels,
      mixup_alpha=mixup_alpha,
      cutmix_alpha=cutmix_alpha,
      switch_prob=switch_prob,
      mode="elem",
    )

  # The traced α = 0 must also be exact; 5·11 = 55 is a size where 55·(1/55) != 1 in float32.
  images, labels = _refs.random_batch(4, 5, 11)
  images = images.at[0, 0, 0].set(jnp.array([jnp.nan, -0.0, jnp.inf]))
  for i, alpha in enumerate((0.2, 1.0, 0.0, 5.0)):
    out = cutmix_step(jax.random.key(i), images, labels, alpha)
    if alpha == 0.0:
      np.testing.assert_array_equal(_bits(out[0]), _bits(images))
      np.testing.assert_array_equal(_bits(out[1]), _bits(labels))
  for i, (a, b, p) in enumerate(((0.2, 1.0, 0.5), (1.0, 0.3, 0.0), (0.0, 0.0, 1.0))):
    out = switch_step(jax.random.key(i), images, labels, a, b, p)
  np.testing.assert_array_equal(_bits(out[0]), _bits(images))  # Both α = 0: unchanged.
  np.testing.assert_array_equal(_bits(out[1]), _bits(labels))


# ---------------------------------------------------------------------------------------
# pmap and shard_map: each device mixes only its own shard, with the key folded with its
# axis index, so no communication is needed; the result must equal mixing that shard
# eagerly with the same folded key.

NUM_DEVICES = 8
SHARD = 3  # Examples per device: odd on purpose.

_PARALLEL_OPS = {
  "mixup": functools.partial(mixjax.mixup, alpha=0.4, mode="elem", pairing="permute"),
  "cutmix": functools.partial(mixjax.cutmix, alpha=1.0, mode="elem", pairing="flip"),
  "mixup_or_cutmix": functools.partial(
    mixjax.mixup_or_cutmix, switch_prob=0.5, mode="batch", pairing="permute"
  ),
}


@pytest.fixture
def needs_devices():
  # Asked at test time, not at import: initialising JAX's backends during collection would
  # fix the device count before other modules get to configure it.
  if jax.device_count() < NUM_DEVICES:
    pytest.skip(f"needs {NUM_DEVICES} devices (see tests/conftest.py)")


def _sharded_data(leading: tuple[int, ...], pytree: bool):
  key_x, key_v, key_y = jax.random.split(jax.random.key(0), 3)
  images = jax.random.uniform(key_x, (*leading, 6, 5, 2))
  labels = jax.nn.softmax(jax.random.normal(key_y, (*leading, 4)) * 3)
  if pytree:  # mixup takes any pytree; the vector leaf must follow the images.
    return {"images": images, "vector": jax.random.normal(key_v, leading)}, labels
  return images, labels


def _per_device(op):
  def step(key, inputs, labels):
    key = jax.random.fold_in(key, jax.lax.axis_index("data"))
    return op(key, inputs, labels)

  return step


def _eager_shard(op, key, inputs, labels, device):
  """What device `device` must produce: its shard mixed eagerly with its folded key."""
  take = lambda x: x[device]
  return op(jax.random.fold_in(key, device), jax.tree.map(take, inputs), take(labels))


def _mesh():
  return jax.make_mesh((NUM_DEVICES,), ("data",), axis_types=(jax.sharding.AxisType.Auto,))


# The compiled steps are built once per op, so that tests with the same shapes share them.
@functools.cache
def _pmapped(name):
  return jax.pmap(_per_device(_PARALLEL_OPS[name]), axis_name="data", in_axes=(None, 0, 0))


@functools.cache
def _shard_mapped(name):
  return jax.jit(
    jax.shard_map(
      _per_device(_PARALLEL_OPS[name]),
      mesh=_mesh(),
      in_specs=(P(), P("data"), P("data")),
      out_specs=P("data"),
    )
  )


def _run_pmap(name, key, inputs, labels):
  """Inputs `[D, b, ...]`; outputs `[D, b, ...]`."""
  return _pmapped(name)(key, inputs, labels)


def _run_shard_map(name, key, inputs, labels):
  """Inputs `[D, b, ...]` flattened to `[D·b, ...]` and sharded; outputs back to `[D, b, ...]`."""
  flat = lambda x: x.reshape((-1, *x.shape[2:]))
  unflat = lambda x: x.reshape((NUM_DEVICES, -1, *x.shape[1:]))
  out = _shard_mapped(name)(key, jax.tree.map(flat, inputs), flat(labels))
  return jax.tree.map(unflat, out)


def _assert_matches_eager(op, key, inputs, labels, out):
  for device in range(NUM_DEVICES):
    expected_x, expected_y = _eager_shard(op, key, inputs, labels, device)
    got_x, got_y = jax.tree.map(lambda x, d=device: x[d], out)
    if op.func is mixjax.cutmix:  # CutMix copies pixels: nothing to round differently.
      np.testing.assert_array_equal(got_x, expected_x)
    else:
      for g, e in zip(jax.tree.leaves(got_x), jax.tree.leaves(expected_x), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got_y, expected_y, rtol=1e-6, atol=1e-6)


@pytest.mark.usefixtures("needs_devices")
@pytest.mark.parametrize("name", _PARALLEL_OPS)
@pytest.mark.parametrize("runner", [_run_pmap, _run_shard_map], ids=["pmap", "shard_map"])
def test_each_device_mixes_its_shard_with_its_folded_key(name, runner):
  op = _PARALLEL_OPS[name]
  inputs, labels = _sharded_data((NUM_DEVICES, SHARD), pytree=name == "mixup")
  key = jax.random.key(42)
  out = runner(name, key, inputs, labels)
  assert jax.tree.structure(out) == jax.tree.structure((inputs, labels))
  _assert_matches_eager(op, key, inputs, labels, out)


@pytest.mark.usefixtures("needs_devices")
@pytest.mark.parametrize("runner", [_run_pmap, _run_shard_map], ids=["pmap", "shard_map"])
def test_devices_draw_different_mixes(runner):
  """The same shard on every device is mixed differently: the fold-in reaches the op.

  A device whose permutation of its 3 examples is the identity (probability 1/6) returns
  its shard unchanged, so only the changed shards must all differ.
  """
  inputs, labels = _sharded_data((1, SHARD), pytree=True)
  repeat = lambda x: jnp.repeat(x, NUM_DEVICES, axis=0)
  out_x, _ = runner("mixup", jax.random.key(1), jax.tree.map(repeat, inputs), repeat(labels))
  flat = np.asarray(out_x["images"]).reshape(NUM_DEVICES, -1)
  shard = np.asarray(inputs["images"]).reshape(-1)
  changed = [row.tobytes() for row in flat if not np.array_equal(row, shard)]
  assert len(changed) >= NUM_DEVICES // 2 and len(set(changed)) == len(changed)


@pytest.mark.usefixtures("needs_devices")
def test_shard_map_gradient_equals_per_shard_gradient():
  op = _PARALLEL_OPS["cutmix"]
  inputs, labels = _sharded_data((NUM_DEVICES, SHARD), pytree=False)
  flat_inputs = inputs.reshape((-1, *inputs.shape[2:]))
  flat_labels = labels.reshape((-1, labels.shape[-1]))
  key = jax.random.key(3)
  step = jax.shard_map(
    _per_device(op), mesh=_mesh(), in_specs=(P(), P("data"), P("data")), out_specs=P("data")
  )
  weights = jax.random.normal(jax.random.key(4), flat_inputs.shape)
  loss = lambda x: jnp.sum(weights * step(key, x, flat_labels)[0])
  grad = np.asarray(jax.jit(jax.grad(loss))(flat_inputs)).reshape(inputs.shape)
  shard_weights = weights.reshape(inputs.shape)
  for device in range(NUM_DEVICES):
    folded = jax.random.fold_in(key, device)
    shard_loss = lambda x, d=device, k=folded: jnp.sum(shard_weights[d] * op(k, x, labels[d])[0])
    np.testing.assert_allclose(grad[device], jax.grad(shard_loss)(inputs[device]), rtol=1e-6)
  assert np.all(np.any(grad != 0, axis=(1, 2, 3, 4)))


# ---------------------------------------------------------------------------------------
# Bad input

_PUBLIC = {
  "mixup": mixjax.mixup,
  "cutmix": mixjax.cutmix,
  "mixup_or_cutmix": mixjax.mixup_or_cutmix,
}
_INPUTS_NAME = {"mixup": "inputs", "cutmix": "images", "mixup_or_cutmix": "images"}


@pytest.mark.parametrize("op", _PUBLIC)
def test_integer_inputs_raise_type_error(op):
  images, labels = _refs.random_batch(4, 8, 8)
  name = _INPUTS_NAME[op]
  with pytest.raises(TypeError, match=rf"`{name}` must be floating.*uint8.*astype\(jnp.float32\)"):
    _PUBLIC[op](jax.random.key(0), (images * 255).astype(jnp.uint8), labels)


def test_integer_pytree_leaf_raises_type_error():
  inputs, labels = _batch(4)
  with pytest.raises(TypeError, match=r"`inputs` must be floating.*int32.*astype\(jnp.float32\)"):
    mixjax.mixup(jax.random.key(0), inputs.astype(jnp.int32), labels)
  with pytest.raises(TypeError, match=r"`inputs`\['ids'\] must be floating.*uint8"):
    mixjax.mixup(jax.random.key(0), {"x": inputs, "ids": jnp.zeros(4, jnp.uint8)}, labels)


@pytest.mark.parametrize("op", ["cutmix", "mixup_or_cutmix"])
@pytest.mark.parametrize("shape", [(4, 8), (4,)])
def test_images_without_a_spatial_axis_raise(op, shape):
  """[B, L, C] and [B, T, H, W, C] are images now (issue 11); fewer axes are not."""
  _, labels = _refs.random_batch(4, 8, 8)
  with pytest.raises(
    ValueError, match=rf"`images` must be \[batch, \*spatial, channels\].*{shape}"
  ):
    _PUBLIC[op](jax.random.key(0), jnp.zeros(shape), labels)


@pytest.mark.parametrize("op", _PUBLIC)
@pytest.mark.parametrize(
  "labels",
  [jnp.zeros((4,)), jnp.zeros((4, 3, 1)), jnp.zeros((4, 3), jnp.int32)],
  ids=["1d", "3d", "int"],
)
def test_bad_labels_raise(op, labels):
  """Each raises naming `labels`; mixup takes `[4, 3, 1]` as a dense soft map (issue 11)."""
  images, _ = _refs.random_batch(4, 8, 8)
  if op == "mixup" and labels.ndim == 3:
    _, mixed = _PUBLIC[op](jax.random.key(0), images, labels)
    assert mixed.shape == labels.shape
    return
  with pytest.raises(ValueError, match=r"`labels` (must be|of dtype int32).*shape"):
    _PUBLIC[op](jax.random.key(0), images, labels)


@pytest.mark.parametrize("op", _PUBLIC)
def test_batch_size_mismatch_raises(op):
  images, labels = _refs.random_batch(4, 8, 8)
  name = _INPUTS_NAME[op]
  with pytest.raises(ValueError, match=rf"`{name}` has shape \(3, 8, 8, 3\).*`labels`, 4"):
    _PUBLIC[op](jax.random.key(0), images[:3], labels)


def test_pytree_batch_size_mismatch_and_empty_inputs_raise():
  inputs, labels = _batch(4)
  with pytest.raises(ValueError, match=r"`inputs` has shape \(3, 3\).*batch size of `labels`, 4"):
    mixjax.mixup(jax.random.key(0), inputs[:3], labels)
  with pytest.raises(ValueError, match=r"`inputs`\['b'\] has shape \(5,\).*`labels`, 4"):
    mixjax.mixup(jax.random.key(0), {"a": inputs, "b": jnp.zeros(5)}, labels)
  with pytest.raises(ValueError, match="`inputs` must hold at least one array"):
    mixjax.mixup(jax.random.key(0), {}, labels)


@pytest.mark.parametrize(
  "op, name",
  [("mixup", "alpha"), ("cutmix", "alpha")]
  + [("mixup_or_cutmix", "mixup_alpha"), ("mixup_or_cutmix", "cutmix_alpha")],
)
@pytest.mark.parametrize("alpha", [-0.5, float("nan"), float("inf")])
def test_bad_alpha_raises(op, name, alpha):
  images, labels = _refs.random_batch(4, 8, 8)
  with pytest.raises(ValueError, match=rf"`{name}` must be finite and >= 0, got {alpha}"):
    _PUBLIC[op](jax.random.key(0), images, labels, **{name: alpha})


@pytest.mark.parametrize("switch_prob", [-0.01, 1.01, float("nan")])
def test_switch_prob_outside_unit_interval_raises(switch_prob):
  images, labels = _refs.random_batch(4, 8, 8)
  with pytest.raises(ValueError, match=rf"`switch_prob` must be in \[0, 1\], got {switch_prob}"):
    mixjax.mixup_or_cutmix(jax.random.key(0), images, labels, switch_prob=switch_prob)


@pytest.mark.parametrize("op", _PUBLIC)
@pytest.mark.parametrize("mode", ["pixel", "box"])
def test_unknown_mode_and_pairing_raise_at_trace_time(op, mode):
  images, labels = _refs.random_batch(4, 8, 8)
  bad_mode = jax.jit(functools.partial(_PUBLIC[op], mode=mode))
  with pytest.raises(ValueError, match=rf"`mode` must be one of \('batch', 'elem'\), got '{mode}'"):
    bad_mode(jax.random.key(0), images, labels)
  bad_pairing = jax.jit(functools.partial(_PUBLIC[op], pairing="shift"))
  with pytest.raises(ValueError, match=r"`pairing` must be one of \(.*'permute'.*\), got 'shift'"):
    bad_pairing(jax.random.key(0), images, labels)


# ---------------------------------------------------------------------------------------
# Issue 11: any number of spatial axes, pytrees, dense labels, probability, cutmix_minmax


def _nd_box_mask(box, batch_size, spatial):
  """Boolean `[B, *spatial]` by slicing: True inside each `(starts..., stops...)` box."""
  ndim = len(spatial)
  boxes = np.broadcast_to(np.asarray(box), (batch_size, 2 * ndim))
  masks = np.zeros((batch_size, *spatial), bool)
  for i, row in enumerate(boxes):
    index = tuple(slice(max(row[a], 0), min(row[ndim + a], spatial[a])) for a in range(ndim))
    masks[(i, *index)] = True
  return masks


def _source_batch(batch_size, spatial, channels=2, num_classes=6):
  """Example i holds i + 1 + a small pixel pattern, so every pixel names its source."""
  pattern = jax.random.uniform(jax.random.key(1), (batch_size, *spatial, channels)) * 0.1
  values = jnp.arange(1.0, batch_size + 1.0).reshape((batch_size,) + (1,) * (len(spatial) + 1))
  labels = mixjax.one_hot(jnp.arange(batch_size) % num_classes, num_classes)
  return values + pattern, labels


@pytest.mark.parametrize("spatial", [(12,), (6, 7), (3, 4, 5)])
@pytest.mark.parametrize("mode", MODES)
def test_nd_cutmix_pastes_boxes_with_exact_label_weight(spatial, mode):
  batch = 5
  images, labels = _source_batch(batch, spatial)
  key = jax.random.key(3)
  out, mixed = mixjax.cutmix(key, images, labels, mode=mode)
  params = mixjax.sample_cutmix_params(key, batch, spatial, mode=mode)
  assert params.box.shape == ((2 * len(spatial),) if mode == "batch" else (batch, 2 * len(spatial)))
  pasted = _nd_box_mask(params.box, batch, spatial)
  partner = np.asarray(params.partner)
  want = np.where(pasted[..., None], np.asarray(images)[partner], np.asarray(images))
  np.testing.assert_array_equal(out, want)
  kept = 1.0 - pasted.reshape(batch, -1).mean(axis=1)
  want_labels = kept[:, None] * labels + (1 - kept[:, None]) * np.asarray(labels)[partner]
  np.testing.assert_allclose(mixed, want_labels, atol=1e-6)


def test_nd_box_volume_is_about_one_minus_lambda():
  """1-D and 3-D boxes: sides floor(d·(1-λ)^(1/S)) (±1 for float32 rounding), clipped."""
  lam = jnp.tile(jnp.linspace(0.0, 1.0, 11), 8)  # λ = 0 first, λ = 1 last.
  for spatial in [(40,), (8, 8, 8)]:
    box = np.asarray(mixjax.sample_box(jax.random.key(0), lam, spatial))
    ndim, size = len(spatial), np.asarray(spatial)[None]
    want = np.floor(size * (1 - np.asarray(lam))[:, None] ** (1 / ndim))
    sides = box[:, ndim:] - box[:, :ndim]
    unclipped = (box[:, :ndim] > 0) & (box[:, ndim:] < size)
    assert np.all(np.abs(sides - want)[unclipped] <= 1) and np.all(sides <= want + 1)
    assert np.all(box[:, :ndim] >= 0) and np.all(box[:, ndim:] <= size)
    assert np.all(sides[-1] == 0) and np.all(sides[0] > 0) and unclipped.sum() > 20


def test_pytree_leaves_share_the_box():
  images, labels = _source_batch(4, (6, 6), channels=3)
  depth = images[..., :1] * 2.0
  key = jax.random.key(5)
  out, _ = mixjax.cutmix(key, {"rgb": images, "depth": depth}, labels, mode="elem")
  alone, _ = mixjax.cutmix(key, images, labels, mode="elem")
  np.testing.assert_array_equal(out["rgb"], alone)
  np.testing.assert_array_equal(out["depth"], alone[..., :1] * 2.0)


def test_dense_labels_are_pasted_with_the_pixels():
  """Class maps (integer and one-hot) follow the pasted pixels, pixel for pixel."""
  batch, spatial, classes = 6, (7, 5), 4
  images, _ = _source_batch(batch, spatial)
  maps = jax.random.randint(jax.random.key(2), (batch, *spatial), 0, classes)
  key = jax.random.key(9)
  out, mixed_maps = mixjax.cutmix(key, images, maps, mode="elem")
  _, mixed_soft = mixjax.cutmix(key, images, mixjax.one_hot(maps, classes), mode="elem")
  source = np.rint(np.floor(np.asarray(out)[..., 0]) - 1).astype(int)  # Whose pixel it is.
  want = np.asarray(maps)[source, *np.indices(spatial)]
  np.testing.assert_array_equal(mixed_maps, want)
  assert mixed_maps.dtype == maps.dtype
  np.testing.assert_array_equal(mixed_soft, mixjax.one_hot(want, classes))
  assert np.any(source != np.arange(batch)[:, None, None])  # Something was pasted.


def test_mixup_blends_dense_soft_maps_and_refuses_integer_maps():
  images, _ = _source_batch(4, (3, 3))
  maps = jax.random.randint(jax.random.key(2), (4, 3, 3), 0, 3)
  soft = mixjax.one_hot(maps, 3)
  key = jax.random.key(4)
  _, mixed = mixjax.mixup(key, images, soft, mode="elem")
  params = mixjax.sample_mixup_params(key, 4, mode="elem")
  lam = np.asarray(params.lam)[:, None, None, None]
  want = lam * soft + (1 - lam) * np.asarray(soft)[np.asarray(params.partner)]
  np.testing.assert_allclose(mixed, want, atol=1e-6)
  with pytest.raises(ValueError, match="integer class maps: a blend needs one-hot maps"):
    mixjax.mixup(key, images, maps)
  with pytest.raises(ValueError, match=r"`labels` must be floating \[B, K\], dense soft maps"):
    mixjax.mixup_or_cutmix(key, images, maps)


def test_pasting_shape_errors():
  images, labels = _source_batch(4, (6, 6))
  key = jax.random.key(0)
  with pytest.raises(ValueError, match=r"dense soft maps \[B, 6, 6, K\].*got shape \(4, 5, 6\)"):
    mixjax.cutmix(key, images, jnp.zeros((4, 5, 6), jnp.int32))
  with pytest.raises(ValueError, match=r"`images\['b'\]` has shape \(4, 6, 5, 1\).*share"):
    mixjax.cutmix(key, {"a": images, "b": images[:, :, :5, :1]}, labels)
  with pytest.raises(ValueError, match="at least one spatial axis"):
    mixjax.cutmix(key, images[:, 0, 0], labels)


@pytest.mark.parametrize("op", ["mixup", "cutmix", "mixup_or_cutmix"])
@pytest.mark.parametrize("mode", MODES)
def test_probability_zero_is_identity_and_half_mixes_about_half(op, mode):
  images, labels = _refs.random_batch(64, 4, 4)
  fn = _PUBLIC[op]
  out, mixed = fn(jax.random.key(0), images, labels, mode=mode, probability=0.0)
  np.testing.assert_array_equal(_bits(out), _bits(images))
  np.testing.assert_array_equal(_bits(mixed), _bits(labels))
  # 30 batch draws (one gate each: the rate's std is 0.09) or 2 x 64 per-example draws.
  keys = jax.random.split(jax.random.key(1), 30 if mode == "batch" else 2)
  outs, _ = jax.vmap(lambda k: fn(k, images, labels, mode=mode, probability=0.5))(keys)
  same = np.all(np.asarray(outs) == np.asarray(images), axis=(2, 3, 4))
  if mode == "batch":  # One draw for the whole batch.
    assert np.all(same.all(axis=1) | ((~same).sum(axis=1) > 32))
  assert 0.2 < np.mean(~same) < 0.8 if mode == "batch" else 0.3 < np.mean(~same) < 0.7


def test_probability_keeps_the_other_draws():
  """Where the gate lets a draw through, it is that of probability=1."""
  images, labels = _refs.random_batch(32, 5, 5)
  key = jax.random.key(7)
  full, _ = mixjax.cutmix(key, images, labels, mode="elem")
  half, _ = mixjax.cutmix(key, images, labels, mode="elem", probability=0.5)
  mixed = np.any(np.asarray(half) != np.asarray(images), axis=(1, 2, 3))
  np.testing.assert_array_equal(np.asarray(half)[mixed], np.asarray(full)[mixed])
  np.testing.assert_array_equal(np.asarray(half)[~mixed], np.asarray(images)[~mixed])


def test_cutmix_minmax_sides_and_exact_weight():
  batch, spatial, (lo, hi) = 400, (20, 30), (0.25, 0.75)
  params = mixjax.sample_cutmix_params(
    jax.random.key(0), batch, spatial, mode="elem", cutmix_minmax=(lo, hi)
  )
  box = np.asarray(params.box)
  sides = box[:, 2:] - box[:, :2]
  for axis, size in enumerate(spatial):
    values = set(sides[:, axis].tolist())
    assert values == set(range(int(lo * size), int(hi * size)))  # Every side, none outside.
    assert box[:, axis].min() == 0 and box[:, 2 + axis].max() == size  # Inside, any place.
  images, labels = _source_batch(6, (8, 8))
  key = jax.random.key(1)
  _, mixed = mixjax.cutmix(key, images, labels, mode="elem", cutmix_minmax=(0.2, 0.6))
  params = mixjax.sample_cutmix_params(key, 6, (8, 8), mode="elem", cutmix_minmax=(0.2, 0.6))
  np.testing.assert_allclose(mixed, _refs_weighted(labels, params, (8, 8)), atol=1e-6)


def _refs_weighted(labels, params, spatial):
  pasted = _nd_box_mask(params.box, labels.shape[0], spatial).reshape(labels.shape[0], -1)
  kept = 1.0 - pasted.mean(axis=1)[:, None]
  return kept * labels + (1 - kept) * np.asarray(labels)[np.asarray(params.partner)]


@pytest.mark.parametrize(
  "minmax", [(0.5, 0.5), (0.6, 0.4), (-0.1, 0.5), (0.2, 1.5), (0.1,), "0.1,0.5", ("a", 0.5)]
)
def test_bad_cutmix_minmax_raises(minmax):
  images, labels = _refs.random_batch(4, 8, 8)
  with pytest.raises(ValueError, match="`cutmix_minmax` must be"):
    mixjax.cutmix(jax.random.key(0), images, labels, cutmix_minmax=minmax)


@pytest.mark.parametrize("op", ["mixup", "cutmix", "mixup_or_cutmix"])
@pytest.mark.parametrize("probability", [-0.1, 1.5, float("nan"), "0.5", True, None])
def test_bad_probability_raises(op, probability):
  images, labels = _refs.random_batch(4, 8, 8)
  with pytest.raises(ValueError, match="`probability` must be"):
    _PUBLIC[op](jax.random.key(0), images, labels, probability=probability)


@pytest.mark.parametrize("switch_prob", [-0.1, 1.5, True, None])
def test_bad_switch_prob_raises(switch_prob):
  images, labels = _refs.random_batch(4, 8, 8)
  with pytest.raises(ValueError, match="`switch_prob` must be"):
    mixjax.mixup_or_cutmix(jax.random.key(0), images, labels, switch_prob=switch_prob)
  with pytest.raises(ValueError, match="`switch_prob` must be"):
    mixjax.sample_mixup_or_cutmix_params(jax.random.key(0), 4, (8, 8), switch_prob=switch_prob)


@pytest.mark.parametrize("op, name", [("mixup", "alpha"), ("cutmix", "alpha")])
@pytest.mark.parametrize("alpha", [1e39, True, "0.4", "abc", None, [1.0]])
def test_alpha_that_is_not_a_float32_number_raises(op, name, alpha):
  images, labels = _refs.random_batch(4, 8, 8)
  with pytest.raises(ValueError, match=f"`{name}` must be"):
    _PUBLIC[op](jax.random.key(0), images, labels, **{name: alpha})


_TRACED_BAD = [
  ("mixup", "alpha", -1.0),
  ("mixup", "alpha", float("nan")),
  ("cutmix", "alpha", -1.0),
  ("cutmix", "probability", 2.0),
  ("mixup_or_cutmix", "switch_prob", -0.5),
  ("mixup_or_cutmix", "cutmix_alpha", float("inf")),
]


@pytest.mark.parametrize("op, name, value", _TRACED_BAD)
def test_traced_bad_hyperparameter_gives_nan_not_another_method(op, name, value):
  images, labels = _refs.random_batch(4, 8, 8)
  fn = jax.jit(lambda v: _PUBLIC[op](jax.random.key(0), images, labels, **{name: v}))
  out, mixed = fn(jnp.float32(value))
  assert np.all(np.isnan(mixed))
  assert np.any(np.isnan(out))
  good_out, good = fn(jnp.float32(0.5 if name != "cutmix_alpha" else 1.0))
  assert np.all(np.isfinite(good)) and np.all(np.isfinite(good_out))


def test_issue9_errors_name_the_argument():
  key = jax.random.key(0)
  images, labels = _refs.random_batch(4, 8, 8)
  with pytest.raises(ValueError, match="`image_size` must be"):
    mixjax.sample_cutmix_params(key, 4, 8)
  with pytest.raises(ValueError, match=r"`images\['x'\]` must be an array, got a str"):
    mixjax.cutmix(key, {"x": "not an array"}, labels)
  with pytest.raises(ValueError, match="`labels` is an empty batch"):
    mixjax.mixup(key, images[:0], labels[:0])
  with pytest.raises(ValueError, match="`images` is an empty batch"):
    mixjax.cutmix(key, images[:0], labels)
  with pytest.raises(ValueError, match="`images` must be an array, got a dict"):
    mixjax.random_erasing(key, {"x": images})


@pytest.mark.parametrize(
  "op", [mixjax.cutmix, mixjax.mixup_or_cutmix, mixjax.random_erasing, mixjax.gridmask]
)
def test_channels_first_images_are_refused_with_the_fix(op):
  images, labels = _refs.random_batch(2, 32, 32)
  first = jnp.moveaxis(images, -1, 1)  # [B, 3, 32, 32]
  args = (first, labels) if "labels" in inspect.signature(op).parameters else (first,)
  with pytest.raises(ValueError, match=r"looks channels-first.*jnp.moveaxis\(images, 1, -1\)"):
    op(jax.random.key(0), *args)
