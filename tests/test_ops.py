"""Tests for mixjax.mixup and the deterministic half, mixjax.apply_mix."""

from __future__ import annotations

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import mixjax

MODES = ("batch", "elem")
PAIRINGS = ("permute", "flip")
DTYPES = (jnp.float32, jnp.bfloat16, jnp.float16)
_HYPOTHESIS = settings(max_examples=15, deadline=None)
_HYPOTHESIS_LIGHT = settings(max_examples=10, deadline=None)


def _mixup(mode: str, pairing: str):
  """mixup with its static arguments bound.

  Most tests run it eagerly: JAX then compiles each primitive once per shape and reuses it
  across tests, which is much cheaper than compiling the whole op (its Beta sampler costs
  over a second) for every batch size hypothesis draws. The variant tests cover jit.
  """
  return functools.partial(mixjax.mixup, mode=mode, pairing=pairing)


def _batch(batch_size: int, feature_shape=(3,), num_classes: int = 4, seed: int = 0):
  key_x, key_y = jax.random.split(jax.random.key(seed))
  inputs = jax.random.normal(key_x, (batch_size, *feature_shape), jnp.float32)
  labels = mixjax.one_hot(jax.random.randint(key_y, (batch_size,), 0, num_classes), num_classes)
  return inputs, labels


def _reference_blend(x, lam, partner):
  """`λ_i·x_i + (1-λ_i)·x_partner(i)` in float64 NumPy."""
  x = np.asarray(x, np.float64)
  lam = np.broadcast_to(np.asarray(lam, np.float64), partner.shape)
  lam = lam.reshape(lam.shape + (1,) * (x.ndim - 1))
  return lam * x + (1.0 - lam) * x[partner]


def _reference_mixup(key, inputs, labels, *, alpha, mode, pairing):
  """Mixup rebuilt from the sampled λ and partners (same key, same split)."""
  batch_size = labels.shape[0]
  params = mixjax.sample_mixup_params(key, batch_size, alpha=alpha, mode=mode, pairing=pairing)
  partner = np.asarray(params.partner)
  mix = lambda x: _reference_blend(x, params.lam, partner)
  return jax.tree.map(mix, inputs), mix(labels), params


def _bits(x) -> np.ndarray:
  """The raw bits of an array, so that -0.0 != 0.0 and NaN == NaN."""
  x = np.asarray(x)
  return x.view(np.dtype(f"u{x.dtype.itemsize}"))


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


class ApplyMixVariantsTest(chex.TestCase):
  @chex.variants(with_jit=True, without_jit=True, with_device=True)
  @parameterized.product(elem=(False, True))
  def test_hand_built_params(self, elem):
    inputs, labels = _batch(4, (2, 3))
    lam = jnp.array([0.25, 1.0, 0.0, 0.6]) if elem else jnp.float32(0.3)
    partner = jnp.array([2, 2, 0, 3], jnp.int32)  # Any gather works, not only permutations.
    params = mixjax.MixParams(lam=lam, partner=partner)
    out_x, out_y = self.variant(mixjax.apply_mix)(inputs, labels, params)
    np.testing.assert_allclose(out_x, _reference_blend(inputs, lam, np.asarray(partner)), atol=1e-6)
    np.testing.assert_allclose(out_y, _reference_blend(labels, lam, np.asarray(partner)), atol=1e-6)
    if elem:  # λ = 1 keeps the example, λ = 0 replaces it, both exactly.
      np.testing.assert_array_equal(out_x[1], inputs[1])
      np.testing.assert_array_equal(out_x[2], inputs[0])
      np.testing.assert_array_equal(out_y[2], labels[0])


def test_apply_mix_flip_equals_explicit_reversal():
  inputs, labels = _batch(5, (3,))
  lam = jnp.array([0.1, 0.4, 0.5, 0.8, 0.9])
  reversed_partner = jnp.arange(4, -1, -1, dtype=jnp.int32)
  flip = mixjax.MixParams(lam=lam, partner=reversed_partner, pairing="flip")
  gather = mixjax.MixParams(lam=lam, partner=reversed_partner, pairing="permute")
  chex.assert_trees_all_close(
    mixjax.apply_mix(inputs, labels, flip), mixjax.apply_mix(inputs, labels, gather), atol=1e-7
  )


def test_self_weight_without_box_is_lambda():
  params = mixjax.MixParams(lam=jnp.float32(0.3), partner=jnp.arange(5, dtype=jnp.int32))
  np.testing.assert_array_equal(mixjax.self_weight(params), np.full(5, 0.3, np.float32))


def test_apply_mix_partner_shape_mismatch_raises():
  inputs, labels = _batch(4)
  params = mixjax.MixParams(lam=jnp.float32(0.5), partner=jnp.arange(3, dtype=jnp.int32))
  with pytest.raises(ValueError, match=r"`params.partner` must have shape \(4,\).*\(3,\)"):
    mixjax.apply_mix(inputs, labels, params)


# ---------------------------------------------------------------------------------------
# Properties


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


@_HYPOTHESIS_LIGHT
@given(
  batch_size=st.integers(1, 9),
  mode=st.sampled_from(MODES),
  pairing=st.sampled_from(PAIRINGS),
  seed=st.integers(0, 2**31 - 1),
)
def test_alpha_zero_identity_with_special_values(batch_size, mode, pairing, seed):
  inputs, labels = _batch(batch_size, (2, 3), seed=seed)
  special = jnp.array([-0.0, jnp.inf, -jnp.inf, jnp.nan, 0.0, 1e-45])
  inputs = inputs.at[:, 0, :].set(special[:3]).at[:, 1, :].set(special[3:])
  labels = labels * 0.5 + 0.5 / labels.shape[1]
  out_x, out_y = _mixup(mode, pairing)(jax.random.key(seed), inputs, labels, alpha=0.0)
  np.testing.assert_array_equal(_bits(out_x), _bits(inputs))
  np.testing.assert_array_equal(_bits(out_y), _bits(labels))


@pytest.mark.parametrize("mode", MODES)
def test_same_key_same_output_and_keys_differ(mode):
  inputs, labels = _batch(8, (5,))
  run = lambda seed: _mixup(mode, "permute")(jax.random.key(seed), inputs, labels)
  chex.assert_trees_all_equal(run(1), run(1))
  outputs = [np.asarray(run(seed)[0]) for seed in range(5)]
  for i in range(5):
    for j in range(i):
      assert not np.allclose(outputs[i], outputs[j])


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
  expected = _reference_blend(inputs.astype(jnp.float32), params.lam, np.asarray(params.partner))
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


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pairing", PAIRINGS)
def test_vmap_over_keys_equals_loop(mode, pairing):
  keys = jax.random.split(jax.random.key(3), 4)
  inputs = jax.random.normal(jax.random.key(0), (4, 5, 2))
  labels = jax.nn.softmax(jax.random.normal(jax.random.key(1), (4, 5, 3)))
  fn = functools.partial(mixjax.mixup, mode=mode, pairing=pairing, alpha=0.5)
  out_x, out_y = jax.jit(jax.vmap(fn))(keys, inputs, labels)
  for i in range(4):
    loop_x, loop_y = fn(keys[i], inputs[i], labels[i])
    np.testing.assert_allclose(out_x[i], loop_x, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out_y[i], loop_y, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------------------
# Bad input


def test_integer_inputs_raise_type_error():
  inputs, labels = _batch(4)
  with pytest.raises(TypeError, match=r"`inputs` must be floating.*int32.*astype\(jnp.float32\)"):
    mixjax.mixup(jax.random.key(0), inputs.astype(jnp.int32), labels)
  with pytest.raises(TypeError, match=r"`inputs`\['ids'\] must be floating.*uint8"):
    mixjax.mixup(jax.random.key(0), {"x": inputs, "ids": jnp.zeros(4, jnp.uint8)}, labels)


@pytest.mark.parametrize(
  "labels",
  [jnp.zeros((4,)), jnp.zeros((4, 3, 1)), jnp.zeros((4, 3), jnp.int32)],
  ids=["1d", "3d", "int"],
)
def test_bad_labels_raise(labels):
  inputs, _ = _batch(4)
  with pytest.raises(ValueError, match=r"`labels` must be a 2-D floating array.*got shape"):
    mixjax.mixup(jax.random.key(0), inputs, labels)


def test_batch_size_mismatch_raises():
  inputs, labels = _batch(4)
  with pytest.raises(ValueError, match=r"`inputs` has shape \(3, 3\).*batch size of `labels`, 4"):
    mixjax.mixup(jax.random.key(0), inputs[:3], labels)
  with pytest.raises(ValueError, match=r"`inputs`\['b'\] has shape \(5,\).*`labels`, 4"):
    mixjax.mixup(jax.random.key(0), {"a": inputs, "b": jnp.zeros(5)}, labels)


def test_empty_inputs_raise():
  _, labels = _batch(4)
  with pytest.raises(ValueError, match="`inputs` must hold at least one array"):
    mixjax.mixup(jax.random.key(0), {}, labels)


@pytest.mark.parametrize("alpha", [-1.0, float("nan"), float("inf")])
def test_bad_alpha_raises(alpha):
  inputs, labels = _batch(4)
  with pytest.raises(ValueError, match=rf"`alpha` must be finite and >= 0, got {alpha}"):
    mixjax.mixup(jax.random.key(0), inputs, labels, alpha=alpha)


def test_unknown_mode_and_pairing_raise_at_trace_time():
  inputs, labels = _batch(4)
  bad_mode = jax.jit(functools.partial(mixjax.mixup, mode="pixel"))
  with pytest.raises(ValueError, match=r"`mode` must be one of \('batch', 'elem'\), got 'pixel'"):
    bad_mode(jax.random.key(0), inputs, labels)
  bad_pairing = jax.jit(functools.partial(mixjax.mixup, pairing="roll"))
  with pytest.raises(ValueError, match=r"`pairing` must be one of \(.*\), got 'roll'"):
    bad_pairing(jax.random.key(0), inputs, labels)
