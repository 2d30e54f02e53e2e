"""Tests for mixjax.one_hot."""

from __future__ import annotations

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized

import mixjax


class OneHotVariantsTest(chex.TestCase):
  @chex.variants(with_jit=True, without_jit=True, with_device=True)
  @parameterized.named_parameters(
    ("plain", 0.0),
    ("smoothed", 0.1),
  )
  def test_matches_numpy(self, label_smoothing):
    labels = jnp.array([0, 3, 1, 3, 2], jnp.int32)
    fn = self.variant(functools.partial(mixjax.one_hot, num_classes=4))
    targets = fn(labels, label_smoothing=label_smoothing)
    expected = np.eye(4, dtype=np.float32)[np.asarray(labels)]
    expected = expected * (1 - label_smoothing) + label_smoothing / 4
    chex.assert_shape(targets, (5, 4))
    chex.assert_type(targets, jnp.float32)
    np.testing.assert_allclose(targets, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(targets.sum(axis=-1), np.ones(5), rtol=1e-6)


def test_plain_one_hot_is_exact():
  targets = mixjax.one_hot(np.array([2, 0, 1]), 3)
  np.testing.assert_array_equal(targets, np.eye(3, dtype=np.float32)[[2, 0, 1]])


def test_extra_leading_dims():
  labels = jnp.array([[0, 1], [2, 2], [1, 0]])
  targets = mixjax.one_hot(labels, 3)
  chex.assert_shape(targets, (3, 2, 3))
  np.testing.assert_array_equal(targets.argmax(-1), labels)


def test_traced_labels_and_smoothing_do_not_retrace():
  @jax.jit
  @chex.assert_max_traces(n=1)
  def fn(labels, label_smoothing):
    return mixjax.one_hot(labels, 5, label_smoothing=label_smoothing)

  for eps in (0.0, 0.1, 0.3):
    targets = fn(jnp.array([4, 0, 2]), eps)
    np.testing.assert_allclose(targets.max(-1), 1 - eps + eps / 5, rtol=1e-6)
    np.testing.assert_allclose(targets.min(-1), eps / 5, rtol=1e-6)


@pytest.mark.parametrize("bad", [-1, 4, 100])
def test_out_of_range_label_raises(bad):
  with pytest.raises(ValueError, match=rf"`labels` must lie in \[0, 4\).*{bad}"):
    mixjax.one_hot(jnp.array([0, bad, 1]), 4)


def test_float_labels_raise():
  with pytest.raises(TypeError, match="`labels`.*float32"):
    mixjax.one_hot(jnp.array([0.0, 1.0]), 4)


@pytest.mark.parametrize("num_classes", [0, -3, 2.0])
def test_bad_num_classes_raises(num_classes):
  with pytest.raises(ValueError, match=r"`num_classes`.*" + str(num_classes)):
    mixjax.one_hot(jnp.array([0]), num_classes)


@pytest.mark.parametrize("eps", [-0.1, 1.0, 1.5])
def test_bad_label_smoothing_raises(eps):
  with pytest.raises(ValueError, match=r"`label_smoothing` must be in \[0, 1\).*" + str(eps)):
    mixjax.one_hot(jnp.array([0]), 3, label_smoothing=eps)


def test_one_hot_takes_a_python_list_and_refuses_string_smoothing():
  np.testing.assert_array_equal(mixjax.one_hot([0, 1, 2], 3), np.eye(3, dtype=np.float32))
  with pytest.raises(ValueError, match="`label_smoothing` must be a number, got '0.1'"):
    mixjax.one_hot(jnp.arange(3), 3, label_smoothing="0.1")


def test_traced_smoothing_out_of_range_gives_nan():
  smooth = jax.jit(lambda eps: mixjax.one_hot(jnp.arange(3), 3, label_smoothing=eps))
  assert np.all(np.isfinite(smooth(jnp.float32(0.1))))
  assert np.all(np.isnan(smooth(jnp.float32(1.5))))
