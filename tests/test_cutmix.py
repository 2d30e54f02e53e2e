"""Tests for mixjax.cutmix and mixjax.mixup_or_cutmix (and apply_mix with a box)."""

from __future__ import annotations

import functools

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

import mixjax

MODES = ("batch", "elem")
PAIRINGS = ("permute", "flip")
_HYPOTHESIS = settings(max_examples=15, deadline=None)
_HYPOTHESIS_LIGHT = settings(max_examples=10, deadline=None)
# A few image sizes, so that hypothesis mostly varies the batch: every new shape compiles.
# 5 x 11 and 11 x 11 are sizes where (H·W)·(1/(H·W)) != 1 in float32.
_IMAGE_SIZES = [(1, 1), (1, 6), (5, 11), (8, 8), (11, 11)]


def _cutmix(mode: str, pairing: str, **kwargs):
  # Most tests run eagerly (each primitive compiles once per shape and is reused); the
  # variant tests and the retrace tests cover jit.
  return functools.partial(mixjax.cutmix, mode=mode, pairing=pairing, **kwargs)


def _mixup_or_cutmix(mode: str, pairing: str, **kwargs):
  return functools.partial(mixjax.mixup_or_cutmix, mode=mode, pairing=pairing, **kwargs)


def _random_batch(batch_size, height, width, channels=3, num_classes=5, seed=0):
  key_x, key_y = jax.random.split(jax.random.key(seed))
  images = jax.random.uniform(key_x, (batch_size, height, width, channels))
  labels = mixjax.one_hot(jax.random.randint(key_y, (batch_size,), 0, num_classes), num_classes)
  return images, labels


def _constant_batch(batch_size, height, width, channels=2):
  """Image i is filled with i + 1 and labelled class i, so every pixel names its source."""
  values = jnp.arange(1.0, batch_size + 1.0)
  images = jnp.broadcast_to(values[:, None, None, None], (batch_size, height, width, channels))
  return images, mixjax.one_hot(jnp.arange(batch_size), batch_size)


def _masks(params, batch_size, height, width):
  """Boolean `[B, H, W]` pasted regions, by slicing (independent of the op's iota masks)."""
  box = np.broadcast_to(np.asarray(params.box), (batch_size, 4))
  masks = np.zeros((batch_size, height, width), bool)
  for i, (top, left, bottom, right) in enumerate(box):
    masks[i, max(top, 0) : min(bottom, height), max(left, 0) : min(right, width)] = True
  return masks


def _reference(images, labels, params):
  """The mix rebuilt in float64: blend outside the box, partner inside, exact label weight."""
  x = np.asarray(images, np.float64)
  y = np.asarray(labels, np.float64)
  batch_size, height, width = x.shape[:3]
  partner = np.asarray(params.partner)
  lam = np.broadcast_to(np.asarray(params.lam, np.float64), (batch_size,))
  masks = _masks(params, batch_size, height, width)
  blended = lam[:, None, None, None] * x + (1 - lam[:, None, None, None]) * x[partner]
  out = np.where(masks[..., None], x[partner], blended)
  weight = lam * (1 - masks.sum((1, 2)) / (height * width))
  return out, weight[:, None] * y + (1 - weight[:, None]) * y[partner], masks


def _bits(x) -> np.ndarray:
  x = np.asarray(x)
  return x.view(np.dtype(f"u{x.dtype.itemsize}"))


def _check_pixels_and_label_weights(out_x, out_y, partner):
  """Checks the CutMix contract on a `_constant_batch` output.

  Every pixel of output i comes from image i or its partner, and the weight of label i
  is the fraction of pixels still equal to image i: `round(w·H·W)` is that count exactly
  and `w` is within one float32 ulp of count / (H·W).
  """
  out_x, out_y = np.asarray(out_x), np.asarray(out_y)
  batch_size, height, width = out_x.shape[:3]
  own_value = np.arange(1.0, batch_size + 1.0)[:, None, None, None]
  from_self = out_x == own_value
  from_partner = out_x == own_value[partner]
  assert np.all(from_self | from_partner)
  moved = partner != np.arange(batch_size)
  kept = from_self[..., 0].sum((1, 2))[moved]
  weight = out_y[np.arange(batch_size), np.arange(batch_size)][moved]
  np.testing.assert_array_equal(np.rint(weight * height * width), kept)
  np.testing.assert_array_max_ulp(weight, (kept / (height * width)).astype(np.float32), maxulp=1)
  np.testing.assert_allclose(out_y[moved, partner[moved]], 1 - weight, atol=1e-6)
  np.testing.assert_allclose(out_y.sum(-1), np.ones(batch_size), atol=1e-6)


# ---------------------------------------------------------------------------------------
# jit / eager / device variants


class CutMixVariantsTest(chex.TestCase):
  @chex.variants(with_jit=True, without_jit=True, with_device=True)
  @parameterized.product(mode=MODES, pairing=PAIRINGS)
  def test_cutmix_matches_reference(self, mode, pairing):
    images, labels = _random_batch(5, 9, 7)
    key = jax.random.key(3)
    out_x, out_y = self.variant(_cutmix(mode, pairing))(key, images, labels, alpha=1.0)
    params = mixjax.sample_cutmix_params(key, 5, (9, 7), alpha=1.0, mode=mode, pairing=pairing)
    ref_x, ref_y, masks = _reference(images, labels, params)
    chex.assert_trees_all_equal_shapes_and_dtypes((out_x, out_y), (images, labels))
    np.testing.assert_array_equal(out_x, ref_x)  # Pixels are copied, never blended.
    np.testing.assert_allclose(out_y, ref_y, rtol=1e-6, atol=1e-6)
    assert masks.any()

  @chex.variants(with_jit=True, without_jit=True, with_device=True)
  @parameterized.product(mode=MODES, pairing=("permute",))
  def test_mixup_or_cutmix_matches_reference(self, mode, pairing):
    images, labels = _random_batch(6, 8, 8)
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
    ref_x, ref_y, _ = _reference(images, labels, params)
    chex.assert_trees_all_equal_shapes_and_dtypes((out_x, out_y), (images, labels))
    np.testing.assert_allclose(out_x, ref_x, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out_y, ref_y, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------------------
# Properties


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
  images, labels = _constant_batch(batch_size, height, width)
  key = jax.random.key(seed)
  out_x, out_y = _cutmix(mode, pairing, alpha=alpha)(key, images, labels)
  params = mixjax.sample_cutmix_params(
    key, batch_size, (height, width), alpha=alpha, mode=mode, pairing=pairing
  )
  _check_pixels_and_label_weights(out_x, out_y, np.asarray(params.partner))
  ref_x, ref_y, _ = _reference(images, labels, params)
  np.testing.assert_array_equal(out_x, ref_x)
  np.testing.assert_allclose(out_y, ref_y, atol=1e-6)


@_HYPOTHESIS_LIGHT
@given(
  batch_size=st.integers(1, 9),
  mode=st.sampled_from(MODES),
  pairing=st.sampled_from(PAIRINGS),
  seed=st.integers(0, 2**31 - 1),
)
def test_alpha_zero_identity_with_special_values(batch_size, mode, pairing, seed):
  # 5·11 = 55 is an image size where (H·W)·(1/(H·W)) != 1 in float32.
  images, labels = _random_batch(batch_size, 5, 11, channels=2, seed=seed)
  special = jnp.array([-0.0, jnp.inf, -jnp.inf, jnp.nan])
  images = images.at[:, 0, :2, :].set(special.reshape(2, 2))
  labels = labels * 0.9 + 0.1 / labels.shape[1]
  key = jax.random.key(seed)
  for out_x, out_y in (
    _cutmix(mode, pairing, alpha=0.0)(key, images, labels),
    _mixup_or_cutmix(mode, pairing, mixup_alpha=0.0, cutmix_alpha=0.0)(key, images, labels),
  ):
    np.testing.assert_array_equal(_bits(out_x), _bits(images))
    np.testing.assert_array_equal(_bits(out_y), _bits(labels))


@_HYPOTHESIS
@given(
  batch_size=st.integers(1, 9),
  mode=st.sampled_from(MODES),
  pairing=st.sampled_from(PAIRINGS),
  switch_prob=st.sampled_from([0.0, 0.3, 1.0]),
  seed=st.integers(0, 2**31 - 1),
)
def test_mixup_or_cutmix_reconstruction(batch_size, mode, pairing, switch_prob, seed):
  images, labels = _random_batch(batch_size, 6, 5, seed=seed)
  key = jax.random.key(seed)
  op = _mixup_or_cutmix(mode, pairing, mixup_alpha=0.4, cutmix_alpha=1.0, switch_prob=switch_prob)
  out_x, out_y = op(key, images, labels)
  params = mixjax.sample_mixup_or_cutmix_params(
    key,
    batch_size,
    (6, 5),
    mixup_alpha=0.4,
    cutmix_alpha=1.0,
    switch_prob=switch_prob,
    mode=mode,
    pairing=pairing,
  )
  ref_x, ref_y, _ = _reference(images, labels, params)
  np.testing.assert_allclose(out_x, ref_x, rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(out_y, ref_y, rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(np.sum(out_y, -1), np.ones(batch_size), atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_switch_prob_zero_is_pure_mixup(mode):
  batch_size = 8
  images, labels = _constant_batch(batch_size, 6, 6)
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
  images, labels = _constant_batch(batch_size, 7, 5)
  for seed in range(3):
    key = jax.random.key(seed)
    out_x, out_y = _mixup_or_cutmix(mode, "permute", switch_prob=1.0)(key, images, labels)
    params = mixjax.sample_mixup_or_cutmix_params(
      key, batch_size, (7, 5), switch_prob=1.0, mode=mode
    )
    _check_pixels_and_label_weights(out_x, out_y, np.asarray(params.partner))


@pytest.mark.parametrize("switch_prob", [0.25, 0.7])
def test_cutmix_fraction_is_switch_prob_in_elem_mode(switch_prob):
  """Read each example's choice off the output: CutMix copies pixels, mixup blends them."""
  batch_size = 2000
  images, labels = _constant_batch(batch_size, 4, 4, channels=1)
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
  images, labels = _constant_batch(batch_size, 4, 4, channels=1)
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
  images, labels = _random_batch(5, 6, 6)
  images = images.astype(dtype)
  key = jax.random.key(1)
  out_x, out_y = _cutmix("elem", "permute")(key, images, labels)
  chex.assert_type([out_x, out_y], [dtype, jnp.float32])
  params = mixjax.sample_cutmix_params(key, 5, (6, 6), mode="elem")
  masks = _masks(params, 5, 6, 6)[..., None]
  expected = np.where(masks, np.asarray(images)[np.asarray(params.partner)], np.asarray(images))
  np.testing.assert_array_equal(_bits(out_x), _bits(expected))
  out_x, _ = _mixup_or_cutmix("elem", "permute")(key, images, labels)
  chex.assert_type(out_x, dtype)


@pytest.mark.parametrize("op", ["cutmix", "mixup_or_cutmix"])
@pytest.mark.parametrize("mode", MODES)
def test_gradient_follows_the_masks(op, mode):
  """d/dx_j Σ c·x' = c_j·λ_j·(1 - m_j) + Σ_{i: p(i) = j} c_i·(m_i + (1 - m_i)(1 - λ_i))."""
  batch_size, height, width = 5, 6, 7
  images, labels = _random_batch(batch_size, height, width)
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
  masks = _masks(params, batch_size, height, width)[..., None].astype(np.float64)
  c = np.asarray(cotangent, np.float64)
  expected = c * lam * (1 - masks)
  np.add.at(expected, np.asarray(params.partner), c * (masks + (1 - masks) * (1 - lam)))
  np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-6)
  assert np.any(grad != 0)


def test_same_key_same_output_and_keys_differ():
  images, labels = _random_batch(6, 8, 8)
  for op in (_cutmix("elem", "permute"), _mixup_or_cutmix("elem", "permute")):
    chex.assert_trees_all_equal(
      op(jax.random.key(4), images, labels), op(jax.random.key(4), images, labels)
    )
    outputs = [np.asarray(op(jax.random.key(seed), images, labels)[0]) for seed in range(4)]
    for i in range(4):
      for j in range(i):
        assert not np.array_equal(outputs[i], outputs[j])


def test_elem_mode_gives_each_example_its_own_box():
  params = mixjax.sample_cutmix_params(jax.random.key(0), 16, (32, 32), mode="elem")
  assert len({tuple(b) for b in np.asarray(params.box).tolist()}) > 8
  images, labels = _constant_batch(16, 32, 32, channels=1)
  _, out_y = _cutmix("elem", "permute")(jax.random.key(0), images, labels)
  own = np.asarray(out_y)[np.arange(16), np.arange(16)]
  assert len(np.unique(own)) > 8


def test_apply_mix_with_hand_built_boxes():
  """Boxes hanging over the border, inverted or covering everything, on a 5 x 11 image."""
  images, labels = _constant_batch(4, 5, 11)
  box = jnp.array([[-3, -2, 2, 4], [3, 9, 8, 20], [4, 4, 1, 1], [0, 0, 5, 11]], jnp.int32)
  params = mixjax.MixParams(lam=jnp.ones(4), partner=jnp.array([1, 2, 3, 0], jnp.int32), box=box)
  out_x, out_y = mixjax.apply_mix(images, labels, params)
  _check_pixels_and_label_weights(out_x, out_y, np.asarray(params.partner))
  weight = mixjax.self_weight(params, (5, 11))
  np.testing.assert_array_equal(np.rint(np.asarray(weight) * 55), [55 - 8, 55 - 4, 55, 0])
  # A box over the whole image hands over the whole label, exactly.
  np.testing.assert_array_equal(out_y[3], labels[0])
  np.testing.assert_array_equal(out_x[3], images[0])


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


def test_apply_mix_box_with_blend():
  images, labels = _random_batch(3, 4, 4)
  params = mixjax.MixParams(
    lam=jnp.array([0.5, 1.0, 0.25]),
    partner=jnp.array([2, 0, 1], jnp.int32),
    box=jnp.array([[0, 0, 2, 2], [1, 1, 3, 3], [0, 0, 0, 0]], jnp.int32),
  )
  out_x, out_y = mixjax.apply_mix(images, labels, params)
  ref_x, ref_y, _ = _reference(images, labels, params)
  np.testing.assert_allclose(out_x, ref_x, rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(out_y, ref_y, rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(mixjax.self_weight(params, (4, 4)), [0.5 * 12 / 16, 12 / 16, 0.25])


def test_self_weight_needs_image_size():
  params = mixjax.MixParams(lam=jnp.ones(2), partner=jnp.arange(2), box=jnp.zeros((2, 4), int))
  with pytest.raises(ValueError, match="`image_size` is required"):
    mixjax.self_weight(params)


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
  images, labels = _random_batch(4, 5, 11)
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


@pytest.mark.parametrize(
  "op",
  [_cutmix("batch", "permute"), _mixup_or_cutmix("elem", "flip")],
  ids=["cutmix-batch", "mixup_or_cutmix-elem"],
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
# Bad input

_OPS = {
  "cutmix": mixjax.cutmix,
  "mixup_or_cutmix": mixjax.mixup_or_cutmix,
}


@pytest.mark.parametrize("op", _OPS)
@pytest.mark.parametrize("shape", [(4, 8, 8), (4, 8, 8, 3, 1)])
def test_images_not_rank_4_raise(op, shape):
  _, labels = _random_batch(4, 8, 8)
  with pytest.raises(ValueError, match=rf"`images` must be rank 4.*got shape \({shape[0]}, 8, 8"):
    _OPS[op](jax.random.key(0), jnp.zeros(shape), labels)


@pytest.mark.parametrize("op", _OPS)
def test_integer_images_raise_type_error(op):
  images, labels = _random_batch(4, 8, 8)
  with pytest.raises(TypeError, match=r"`images` must be floating.*uint8.*astype\(jnp.float32\)"):
    _OPS[op](jax.random.key(0), (images * 255).astype(jnp.uint8), labels)


@pytest.mark.parametrize("op", _OPS)
def test_bad_labels_raise(op):
  images, labels = _random_batch(4, 8, 8)
  for bad in (labels[:, 0], labels.astype(jnp.int32)):
    with pytest.raises(ValueError, match=r"`labels` must be a 2-D floating array"):
      _OPS[op](jax.random.key(0), images, bad)


@pytest.mark.parametrize("op", _OPS)
def test_batch_size_mismatch_raises(op):
  images, labels = _random_batch(4, 8, 8)
  with pytest.raises(ValueError, match=r"`images` has shape \(3, 8, 8, 3\).*`labels`, 4"):
    _OPS[op](jax.random.key(0), images[:3], labels)


@pytest.mark.parametrize(
  "op, name",
  [("cutmix", "alpha"), ("mixup_or_cutmix", "mixup_alpha"), ("mixup_or_cutmix", "cutmix_alpha")],
)
@pytest.mark.parametrize("alpha", [-0.5, float("nan"), float("inf")])
def test_bad_alpha_raises(op, name, alpha):
  images, labels = _random_batch(4, 8, 8)
  with pytest.raises(ValueError, match=rf"`{name}` must be finite and >= 0, got {alpha}"):
    _OPS[op](jax.random.key(0), images, labels, **{name: alpha})


@pytest.mark.parametrize("switch_prob", [-0.01, 1.01, float("nan")])
def test_switch_prob_outside_unit_interval_raises(switch_prob):
  images, labels = _random_batch(4, 8, 8)
  with pytest.raises(ValueError, match=rf"`switch_prob` must be in \[0, 1\], got {switch_prob}"):
    mixjax.mixup_or_cutmix(jax.random.key(0), images, labels, switch_prob=switch_prob)


@pytest.mark.parametrize("op", _OPS)
def test_unknown_mode_and_pairing_raise_at_trace_time(op):
  images, labels = _random_batch(4, 8, 8)
  with pytest.raises(ValueError, match=r"`mode` must be one of \('batch', 'elem'\), got 'box'"):
    jax.jit(functools.partial(_OPS[op], mode="box"))(jax.random.key(0), images, labels)
  with pytest.raises(ValueError, match=r"`pairing` must be one of .*got 'roll'"):
    jax.jit(functools.partial(_OPS[op], pairing="roll"))(jax.random.key(0), images, labels)
