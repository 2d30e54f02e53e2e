"""FGSM and I-FGSM (`mixjax.experiments.adversarial.attacks`) on a small digits model."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn.datasets import load_digits

from mixjax.experiments.adversarial import attacks

_HIDDEN = 32
_CLIP = dict(clip_min=0.0, clip_max=1.0)


def _mlp(params, x):
  h = jax.nn.relu(x @ params["w1"] + params["b1"])
  return h @ params["w2"] + params["b2"]


# Jitted once per shape: epsilon, step_size and the clip bounds are traced arguments.
_fgsm = jax.jit(functools.partial(attacks.fgsm, _mlp))
_ifgsm = jax.jit(functools.partial(attacks.iterative_fgsm, _mlp), static_argnames="num_steps")
_error = jax.jit(functools.partial(attacks.error_rate, _mlp))
_ATTACKS = {"fgsm": _fgsm, "iterative_fgsm": _ifgsm}


@pytest.fixture(scope="module")
def trained():
  """A 64-32-10 MLP trained on sklearn digits (pixels scaled to [0, 1]); ~1 s on CPU."""
  digits = load_digits()
  x = jnp.asarray(digits.data / 16.0, jnp.float32)
  y = jnp.asarray(digits.target, jnp.int32)
  k1, k2 = jax.random.split(jax.random.key(0))
  params = {
    "w1": jax.random.normal(k1, (64, _HIDDEN)) * 0.1,
    "b1": jnp.zeros(_HIDDEN),
    "w2": jax.random.normal(k2, (_HIDDEN, 10)) * 0.1,
    "b2": jnp.zeros(10),
  }
  opt = optax.adam(1e-2)

  @jax.jit
  def train(params):
    def step(carry, _):
      params, state = carry
      loss = lambda p: optax.softmax_cross_entropy_with_integer_labels(_mlp(p, x), y).mean()
      updates, state = opt.update(jax.grad(loss)(params), state, params)
      return (optax.apply_updates(params, updates), state), None

    return jax.lax.scan(step, (params, opt.init(params)), length=300)[0][0]

  params = train(params)
  return params, x[:512], y[:512]


def test_clean_model_is_accurate(trained):
  params, x, y = trained
  assert float(_error(params, x, y)) < 0.05


@pytest.mark.parametrize("attack", ["fgsm", "iterative_fgsm"])
def test_zero_epsilon_changes_nothing(trained, attack):
  params, x, y = trained
  x_adv = _ATTACKS[attack](params, x, y, epsilon=0.0, **_CLIP)
  np.testing.assert_array_equal(np.asarray(x_adv), np.asarray(x))


@pytest.mark.parametrize("attack", ["fgsm", "iterative_fgsm"])
@pytest.mark.parametrize("epsilon", [0.01, 0.1, 0.3])
def test_perturbation_in_ball_and_range(trained, attack, epsilon):
  params, x, y = trained
  x_adv = np.asarray(_ATTACKS[attack](params, x, y, epsilon=epsilon, **_CLIP))
  assert x_adv.shape == x.shape and x_adv.dtype == np.float32
  assert np.max(np.abs(x_adv - np.asarray(x))) <= epsilon + 1e-6
  assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
  # The attack really moves the inputs (those not pinned at the range border).
  assert np.mean(np.abs(x_adv - np.asarray(x)) > epsilon / 2) > 0.05


def test_fgsm_without_clip_moves_exactly_epsilon(trained):
  params, x, y = trained
  x_adv = _fgsm(params, x, y, epsilon=0.25)
  delta = np.abs(np.asarray(x_adv - x))
  # Every coordinate with a non-zero gradient moves by exactly ε.
  assert np.allclose(delta[delta > 0], 0.25, atol=1e-6)


def test_error_grows_with_epsilon_and_iterative_is_stronger(trained):
  params, x, y = trained
  grid = [0.0, 0.02, 0.05, 0.1, 0.2, 0.3]
  fgsm_err = [float(_error(params, _fgsm(params, x, y, epsilon=e, **_CLIP), y)) for e in grid]
  ifgsm_err = [float(_error(params, _ifgsm(params, x, y, epsilon=e, **_CLIP), y)) for e in grid]
  assert all(b >= a - 0.01 for a, b in zip(fgsm_err, fgsm_err[1:], strict=False)), fgsm_err
  assert all(i >= f - 0.01 for f, i in zip(fgsm_err, ifgsm_err, strict=True)), (fgsm_err, ifgsm_err)
  assert fgsm_err[-1] > fgsm_err[0] + 0.3, fgsm_err
  assert ifgsm_err[-1] > 0.9, ifgsm_err


def test_error_rate_counts_the_misclassified(trained):
  params, x, y = trained
  x_adv = _fgsm(params, x, y, epsilon=0.1, **_CLIP)
  wrong = np.asarray(attacks.misclassified(_mlp, params, x_adv, y))
  predicted = np.argmax(np.asarray(_mlp(params, x_adv)), axis=-1)
  np.testing.assert_array_equal(wrong, predicted != np.asarray(y))
  assert 0 < wrong.sum() < len(wrong)
  assert float(_error(params, x_adv, y)) == pytest.approx(wrong.mean(), abs=1e-7)


def test_one_hot_labels_match_integer_labels(trained):
  params, x, y = trained
  one_hot = jax.nn.one_hot(y, 10)
  for fn in (_fgsm, _ifgsm):
    a = fn(params, x, y, epsilon=0.1, **_CLIP)
    b = fn(params, x, one_hot, epsilon=0.1, **_CLIP)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  assert float(_error(params, x, one_hot)) == float(_error(params, x, y))


def test_jit_with_traced_epsilon_matches_eager(trained):
  params, x, y = trained

  @functools.partial(jax.jit, static_argnames="num_steps")
  def both(params, x, y, eps, num_steps):
    a = attacks.fgsm(_mlp, params, x, y, epsilon=eps, **_CLIP)
    b = attacks.iterative_fgsm(_mlp, params, x, y, epsilon=eps, num_steps=num_steps, **_CLIP)
    return a, b, attacks.error_rate(_mlp, params, b, y)

  x, y = x[:64], y[:64]
  a, b, err = both(params, x, y, jnp.float32(0.1), 3)
  eager_a = attacks.fgsm(_mlp, params, x, y, epsilon=0.1, **_CLIP)
  eager_b = attacks.iterative_fgsm(_mlp, params, x, y, epsilon=0.1, num_steps=3, **_CLIP)
  np.testing.assert_allclose(np.asarray(a), np.asarray(eager_a), atol=1e-6)
  np.testing.assert_allclose(np.asarray(b), np.asarray(eager_b), atol=1e-6)
  assert 0.0 <= float(err) <= 1.0
  assert float(err) == float(attacks.error_rate(_mlp, params, eager_b, y))
  _, b2, _ = both(params, x, y, jnp.float32(0.2), 3)  # A new ε value must not recompile.
  assert np.max(np.abs(np.asarray(b2 - x))) > 0.15
  assert both._cache_size() == 1


def test_custom_step_size(trained):
  params, x, y = trained
  # One step of size ε is FGSM (followed by the no-op projection).
  a = _ifgsm(params, x, y, epsilon=0.1, num_steps=1, step_size=0.1, **_CLIP)
  b = _fgsm(params, x, y, epsilon=0.1, **_CLIP)
  np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


def test_errors_name_the_argument(trained):
  params, x, y = trained
  with pytest.raises(ValueError, match="`epsilon` must be finite and >= 0, got -0.1"):
    attacks.fgsm(_mlp, params, x, y, epsilon=-0.1)
  with pytest.raises(ValueError, match="`epsilon`"):
    attacks.iterative_fgsm(_mlp, params, x, y, epsilon=-1.0, clip_min=0.0, clip_max=1.0)
  with pytest.raises(ValueError, match="`epsilon` must be a scalar"):
    attacks.fgsm(_mlp, params, x, y, epsilon=jnp.ones(3))
  with pytest.raises(ValueError, match="`num_steps` must be a positive int, got 0"):
    attacks.iterative_fgsm(_mlp, params, x, y, epsilon=0.1, num_steps=0, clip_min=0, clip_max=1)
  with pytest.raises(ValueError, match="`num_steps` must be a positive int, got True"):
    attacks.iterative_fgsm(_mlp, params, x, y, epsilon=0.1, num_steps=True, clip_min=0, clip_max=1)
  with pytest.raises(ValueError, match="`step_size`"):
    attacks.iterative_fgsm(
      _mlp, params, x, y, epsilon=0.1, step_size=-0.01, clip_min=0.0, clip_max=1.0
    )
  with pytest.raises(ValueError, match="`clip_min`"):
    attacks.fgsm(_mlp, params, x, y, epsilon=0.1, clip_min=1.0, clip_max=0.0)
  with pytest.raises(ValueError, match="`labels`"):
    attacks.fgsm(_mlp, params, x, y[:10], epsilon=0.1)
  with pytest.raises(ValueError, match="`labels`"):
    attacks.fgsm(_mlp, params, x, y.astype(jnp.float32), epsilon=0.1)
  with pytest.raises(TypeError, match="`inputs` must be floating"):
    attacks.fgsm(_mlp, params, x.astype(jnp.int32), y, epsilon=0.1)
