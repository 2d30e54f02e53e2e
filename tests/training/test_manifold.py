"""Manifold mixup: the mixing boundary, the draw, the config keys (the models' boundaries
are tested in test_models.py)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import mixjax
from mixjax.training import config as config_lib
from mixjax.training import manifold

PARTNER = (1, 0, 3, 2)


def _mix(layer, lam=0.3, partner=PARTNER) -> manifold.ManifoldMix:
  params = mixjax.MixParams(lam=jnp.float32(lam), partner=jnp.asarray(partner, jnp.int32))
  return manifold.ManifoldMix(layer=jnp.int32(layer), params=params)


def _normal(shape, seed=0):
  return jnp.asarray(np.random.default_rng(seed).normal(size=shape), jnp.float32)


def test_mix_hidden_blends_only_at_the_drawn_layer():
  x = _normal((4, 3, 5))
  mix = _mix(2)
  np.testing.assert_array_equal(manifold.mix_hidden(x, 1, mix), x)
  np.testing.assert_array_equal(manifold.mix_hidden(x, 3, mix), x)
  expected = 0.3 * x + 0.7 * x[np.array(PARTNER)]
  np.testing.assert_allclose(manifold.mix_hidden(x, 2, mix), expected, rtol=1e-6, atol=1e-6)
  assert manifold.mix_hidden(x, 0, None) is x


def test_mix_hidden_per_example_lambda_and_dtype():
  x = _normal((4, 6)).astype(jnp.bfloat16)
  lam = jnp.array([1.0, 0.25, 0.5, 0.0], jnp.float32)
  params = mixjax.MixParams(lam=lam, partner=jnp.asarray(PARTNER, jnp.int32))
  out = manifold.mix_hidden(x, 1, manifold.ManifoldMix(layer=jnp.int32(1), params=params))
  assert out.dtype == jnp.bfloat16
  x32, partner = x.astype(jnp.float32), x.astype(jnp.float32)[np.array(PARTNER)]
  expected = (lam[:, None] * x32 + (1 - lam[:, None]) * partner).astype(jnp.bfloat16)
  np.testing.assert_array_equal(out, expected)
  np.testing.assert_array_equal(out[0], x[0])  # λ = 1 keeps the example.


def test_lambda_one_is_bit_exact_even_for_special_values():
  x = jnp.array([[-0.0, jnp.inf], [jnp.nan, 1.5], [2.0, -jnp.inf], [0.0, 3.0]], jnp.float32)
  out = manifold.mix_hidden(x, 0, _mix(0, lam=1.0))
  np.testing.assert_array_equal(out, x)
  assert np.signbit(out[0, 0])


def test_one_compiled_graph_serves_every_layer_and_alpha():
  traces = []

  @jax.jit
  def hidden(x, layer, lam):
    traces.append(1)
    mix = _mix(layer, lam)
    return [manifold.mix_hidden(x, k, mix) for k in range(3)]

  x = _normal((4, 2))
  for layer in range(3):
    for lam in (1.0, 0.4):
      outs = hidden(x, jnp.int32(layer), jnp.float32(lam))
      for k, out in enumerate(outs):
        assert np.array_equal(out, x) == (k != layer or lam == 1.0)
  assert len(traces) == 1


LAYERS = (0, 2, 3)
LABELS = mixjax.one_hot(jnp.arange(8) % 5, 5, label_smoothing=0.1)


@functools.partial(jax.jit, static_argnames="mode")
def _sample(key, alpha, mode="batch"):
  """One compiled draw for every test below (α traced)."""
  return manifold.sample_manifold_mix(key, LABELS, layers=LAYERS, alpha=alpha, mode=mode)


def test_sample_draws_each_eligible_layer_uniformly():
  keys = jax.random.split(jax.random.key(1), 600)
  layers = np.array([int(_sample(k, 1.0)[0].layer) for k in keys])
  values, counts = np.unique(layers, return_counts=True)
  assert values.tolist() == list(LAYERS)
  assert stats.chisquare(counts).pvalue > 1e-3


@pytest.mark.parametrize("mode", ["batch", "elem"])
def test_sample_mixes_the_labels_with_the_drawn_lambda_and_partners(mode):
  mix, mixed = _sample(jax.random.key(2), 1.0, mode=mode)
  lam = jnp.broadcast_to(mix.params.lam, (8,))[:, None]
  assert np.all(lam < 1.0)
  assert sorted(np.asarray(mix.params.partner).tolist()) == list(range(8))
  expected = lam * LABELS + (1 - lam) * LABELS[mix.params.partner]
  np.testing.assert_allclose(mixed, expected, rtol=1e-6, atol=1e-7)


def test_sample_with_alpha_zero_keeps_the_labels():
  mix, mixed = _sample(jax.random.key(3), 0.0)
  np.testing.assert_array_equal(mixed, LABELS)
  np.testing.assert_array_equal(mix.params.lam, 1.0)


@pytest.mark.parametrize(
  "kwargs, match",
  [
    ({"layers": ()}, "layers"),
    ({"layers": (0, -1)}, "layers"),
    ({"layers": (0,), "alpha": -1.0}, "alpha"),
    ({"layers": (0,), "mode": "pair"}, "mode"),
    ({"layers": (0,), "pairing": "shift"}, "pairing"),
  ],
)
def test_sample_errors_name_the_argument(kwargs, match):
  with pytest.raises(ValueError, match=match):
    manifold.sample_manifold_mix(jax.random.key(0), jnp.eye(3), **{"alpha": 1.0, **kwargs})


def test_sample_refuses_integer_labels():
  with pytest.raises(ValueError, match="labels"):
    manifold.sample_manifold_mix(jax.random.key(0), jnp.arange(3), layers=(0,), alpha=1.0)


def _manifold_config(**overrides):
  config = config_lib.default_config()
  config.mix = "manifold_mixup"
  for key, value in overrides.items():
    config[key] = value
  return config


@pytest.mark.parametrize("model", sorted(config_lib.MANIFOLD_LAYERS))
def test_default_layers_are_valid_for_every_model(model):
  config = _manifold_config(model=model)
  assert tuple(config.manifold_layers) == (0, 1, 2)  # The input and the first two blocks.
  config_lib.validate(config)
  last = config_lib.MANIFOLD_LAYERS[model] - 1
  config.manifold_layers = (0, last)
  config_lib.validate(config)


@pytest.mark.parametrize("model, layers, allowed", [("small_cnn", (0, 4), 3), ("mlp", (3,), 2)])
def test_a_layer_out_of_range_for_the_model_names_the_key_and_the_range(model, layers, allowed):
  config = _manifold_config(model=model, manifold_layers=layers)
  match = rf"config\.manifold_layers must be layers in \[0, {allowed}\] for model '{model}'"
  with pytest.raises(ValueError, match=match):
    config_lib.validate(config)
  config.mix = "mixup"  # The range binds only manifold mixup.
  config_lib.validate(config)


@pytest.mark.parametrize("layers", [(), (1, 1), (-1,), (0.5,), (True,)])
def test_malformed_layers_are_refused(layers):
  config = _manifold_config(manifold_layers=layers)
  with pytest.raises(ValueError, match="config.manifold_layers must be a non-empty tuple"):
    config_lib.validate(config)
