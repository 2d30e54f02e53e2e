"""Tests for mixjax.training.models: shapes, parameter counts, train/eval behaviour, dtypes."""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import mixjax
from mixjax.training import config as config_lib
from mixjax.training import manifold
from mixjax.training import models

# Threefry-keyed inits take seconds to compile on a loaded CPU; "rbg" keys compile fast and
# are all flax needs here.
KEY = jax.random.key(0, impl="rbg")


def _num_params(tree) -> int:
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def _abstract_init(model: nn.Module, shape: tuple[int, ...], dtype=jnp.float32):
  """Variables' shapes and dtypes, without allocating or computing anything."""
  return jax.eval_shape(
    functools.partial(model.init, train=False), KEY, jax.ShapeDtypeStruct(shape, dtype)
  )


@functools.partial(jax.jit, static_argnums=(0, 1))
def _init(model: nn.Module, shape: tuple[int, ...]):
  return model.init(KEY, jnp.zeros(shape, jnp.float32), train=False)


def _images(shape: tuple[int, ...], seed: int = 1) -> jax.Array:
  return jnp.asarray(np.random.default_rng(seed).normal(size=shape), jnp.float32)


# Small configurations that run for real on CPU. The big ResNets are only traced abstractly;
# WRN-10-1 runs the same pre-activation blocks as PreActResNet18 and WRN-28-10.
SMALL_CASES = {
  "wrn10_1": (models.WideResNet(num_classes=10, depth=10, widen_factor=1), (2, 16, 16, 3)),
  "small_cnn": (models.SmallCNN(num_classes=10, width=4), (3, 8, 8, 1)),
  "mlp": (models.MLP(num_classes=10, hidden_sizes=(32, 16)), (3, 20)),
}

# (model, input shape, exact count of this implementation, published reference count).
PARAM_COUNTS = {
  # Reference: PyTorch PreActResNet18 (no final BN): 11,171,146; ours adds a final BN (+1,024).
  "preact_resnet18": (
    models.PreActResNet18(num_classes=10),
    (1, 32, 32, 3),
    11_172_170,
    11_171_146,
  ),
  # WRN-28-10 on CIFAR-10: 36.5M (Zagoruyko & Komodakis 2016).
  "wrn28_10": (models.WideResNet(num_classes=10), (1, 32, 32, 3), 36_479_194, 36_500_000),
  # torchvision resnet50: 25,557,032.
  "resnet50": (models.ResNet50(num_classes=1000), (1, 224, 224, 3), 25_557_032, 25_557_032),
}


@pytest.mark.parametrize("name", sorted(PARAM_COUNTS))
def test_param_count_matches_reference(name):
  model, shape, exact, reference = PARAM_COUNTS[name]
  variables = _abstract_init(model, shape)
  count = _num_params(variables["params"])
  assert count == exact
  assert abs(count - reference) / reference < 0.01


def test_small_cnn_and_mlp_are_small():
  small_cnn = _num_params(_abstract_init(models.SmallCNN(num_classes=10), (1, 8, 8, 1))["params"])
  mlp = _num_params(_abstract_init(models.MLP(num_classes=10), (1, 64))["params"])
  assert small_cnn == 24_058
  wide = models.SmallCNN(num_classes=10, width=32)
  assert _num_params(_abstract_init(wide, (1, 8, 8, 1))["params"]) == 94_186
  assert mlp == 64 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10


@pytest.mark.parametrize(
  "model, shape",
  [
    (models.WideResNet(num_classes=10), (2, 32, 32, 3)),
    (models.ResNet50(num_classes=1000), (2, 224, 224, 3)),
    (models.ResNet50(num_classes=7), (2, 64, 48, 3)),
  ],
  ids=["wrn28_10", "resnet50_224", "resnet50_rect"],
)
def test_large_models_abstract_forward(model, shape):
  variables = _abstract_init(model, shape)
  assert set(variables) == {"params", "batch_stats"}
  x = jax.ShapeDtypeStruct(shape, jnp.float32)
  logits = jax.eval_shape(functools.partial(model.apply, train=False), variables, x)
  assert logits.shape == (shape[0], model.num_classes)
  assert logits.dtype == jnp.float32
  logits, updates = jax.eval_shape(
    functools.partial(model.apply, train=True, mutable=["batch_stats"]), variables, x
  )
  assert logits.shape == (shape[0], model.num_classes)
  assert jax.tree.structure(updates["batch_stats"]) == jax.tree.structure(variables["batch_stats"])


@pytest.mark.parametrize("name", sorted(SMALL_CASES))
def test_small_models_forward_shape_and_dtype(name):
  model, shape = SMALL_CASES[name]
  variables = _init(model, shape)
  x = _images(shape)
  logits = jax.jit(functools.partial(model.apply, train=False))(variables, x)
  assert logits.shape == (shape[0], 10)
  assert logits.dtype == jnp.float32
  assert np.all(np.isfinite(logits))
  logits, _ = jax.jit(functools.partial(model.apply, train=True, mutable=["batch_stats"]))(
    variables, x
  )
  assert logits.shape == (shape[0], 10)
  assert np.all(np.isfinite(logits))


def test_small_cnn_handles_mnist_and_cifar_sizes():
  for shape in [(2, 28, 28, 1), (2, 32, 32, 3)]:
    variables = _abstract_init(models.SmallCNN(num_classes=10), shape)
    logits = jax.eval_shape(
      functools.partial(models.SmallCNN(num_classes=10).apply, train=False),
      variables,
      jax.ShapeDtypeStruct(shape, jnp.float32),
    )
    assert logits.shape == (2, 10)


@pytest.mark.parametrize("name", sorted(SMALL_CASES))
def test_dropout_is_deterministic_only_in_eval(name):
  model, shape = SMALL_CASES[name]
  variables = _init(model, shape)  # Dropout has no variables.
  model = model.clone(dropout_rate=0.5)
  x = _images(shape)
  key_a, key_b = jax.random.split(jax.random.key(7, impl="rbg"))

  @jax.jit
  def train_apply(key):
    return model.apply(variables, x, train=True, mutable=["batch_stats"], rngs={"dropout": key})[0]

  @jax.jit
  def eval_apply(key):
    return model.apply(variables, x, train=False, rngs={"dropout": key})

  # Eval ignores the dropout rng.
  np.testing.assert_array_equal(eval_apply(key_a), eval_apply(key_b))
  out_a, out_a2, out_b = train_apply(key_a), train_apply(key_a), train_apply(key_b)
  np.testing.assert_array_equal(out_a, out_a2)
  assert not np.allclose(out_a, out_b)


def test_dropout_needs_rng_in_train_mode():
  model = models.SmallCNN(num_classes=10, width=4, dropout_rate=0.5)
  variables = _abstract_init(model, (2, 8, 8, 1))
  x = jax.ShapeDtypeStruct((2, 8, 8, 1), jnp.float32)
  with pytest.raises(Exception, match="dropout"):
    jax.eval_shape(
      functools.partial(model.apply, train=True, mutable=["batch_stats"]), variables, x
    )


@pytest.mark.parametrize("name", ["wrn10_1", "small_cnn"])
def test_batch_stats_update_only_in_train_mode(name):
  model, shape = SMALL_CASES[name]
  variables = _init(model, shape)
  x = _images(shape) * 3.0 + 1.0
  _, train_updates = jax.jit(functools.partial(model.apply, train=True, mutable=["batch_stats"]))(
    variables, x
  )
  _, eval_updates = jax.jit(functools.partial(model.apply, train=False, mutable=["batch_stats"]))(
    variables, x
  )
  old = jax.tree.leaves(variables["batch_stats"])
  new = jax.tree.leaves(train_updates)
  assert all(not np.allclose(a, b) for a, b in zip(old, new, strict=True))
  for a, b in zip(old, jax.tree.leaves(eval_updates), strict=True):
    np.testing.assert_array_equal(a, b)


def test_batchnorm_momentum_is_0_9():
  model, shape = SMALL_CASES["small_cnn"]
  variables = _init(model, shape)
  x = _images(shape) + 2.0
  _, state = model.apply(
    variables,
    x,
    train=True,
    mutable=["batch_stats", "intermediates"],
    capture_intermediates=lambda mdl, _: isinstance(mdl, nn.Conv),
  )
  conv_out = state["intermediates"]["Conv_0"]["__call__"][0]
  new_mean = state["batch_stats"]["BatchNorm_0"]["mean"]
  np.testing.assert_allclose(new_mean, 0.1 * conv_out.mean(axis=(0, 1, 2)), rtol=1e-5, atol=1e-6)


def test_bfloat16_computes_in_bfloat16_with_float32_params_and_logits():
  model, shape = SMALL_CASES["small_cnn"]
  variables = _init(model, shape)  # The variables do not depend on the compute dtype.
  model = model.clone(dtype=jnp.bfloat16)
  assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(_abstract_init(model, shape)))
  logits, state = model.apply(
    variables,
    _images(shape),
    train=True,
    mutable=["batch_stats", "intermediates"],
    capture_intermediates=lambda mdl, _: isinstance(mdl, nn.Conv | nn.BatchNorm),
  )
  assert logits.dtype == jnp.float32
  inter = state["intermediates"]
  assert inter["Conv_0"]["__call__"][0].dtype == jnp.bfloat16
  assert inter["BatchNorm_2"]["__call__"][0].dtype == jnp.bfloat16
  assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(state["batch_stats"]))


@pytest.mark.parametrize(
  "model, shape",
  [
    (models.PreActResNet18(num_classes=10, dtype=jnp.bfloat16), (2, 32, 32, 3)),
    (models.WideResNet(num_classes=10, dtype=jnp.bfloat16, dropout_rate=0.3), (2, 32, 32, 3)),
    (models.ResNet50(num_classes=1000, dtype=jnp.bfloat16), (2, 224, 224, 3)),
    (models.MLP(num_classes=10, dtype=jnp.bfloat16), (2, 30)),
  ],
  ids=["preact_resnet18", "wrn28_10", "resnet50", "mlp"],
)
def test_bfloat16_abstract(model, shape):
  variables = _abstract_init(model, shape)
  assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(variables))

  def forward(variables, x):
    return model.apply(
      variables,
      x,
      train=True,
      mutable=["batch_stats", "intermediates"],
      rngs={"dropout": KEY},
      capture_intermediates=lambda mdl, _: isinstance(mdl, nn.Dense),
    )

  logits, state = jax.eval_shape(forward, variables, jax.ShapeDtypeStruct(shape, jnp.float32))
  assert logits.dtype == jnp.float32
  dense_outputs = jax.tree.leaves(state["intermediates"])
  assert dense_outputs and all(x.dtype == jnp.bfloat16 for x in dense_outputs)


def test_mlp_flattens_extra_dims():
  model = models.MLP(num_classes=5, hidden_sizes=(8,))
  variables = _init(model, (3, 12))
  x = _images((3, 2, 3, 2))
  apply = jax.jit(functools.partial(model.apply, train=False))
  np.testing.assert_array_equal(apply(variables, x), apply(variables, x.reshape(3, 12)))
  assert set(variables) == {"params"}


def test_rank_errors_name_the_argument():
  with pytest.raises(ValueError, match=r"`x` must be rank 4.*\(2, 8, 8\)"):
    _abstract_init(models.SmallCNN(num_classes=10), (2, 8, 8))
  with pytest.raises(ValueError, match=r"`x` must be at least rank 2"):
    _abstract_init(models.MLP(num_classes=10), (8,))
  with pytest.raises(ValueError, match=r"`depth` must be 6n \+ 4.*27"):
    _abstract_init(models.WideResNet(num_classes=10, depth=27), (1, 8, 8, 3))
  with pytest.raises(ValueError, match=r"`width` must be a positive int.*0"):
    _abstract_init(models.SmallCNN(num_classes=10, width=0), (1, 8, 8, 1))


@pytest.mark.parametrize(
  "name, cls",
  [
    ("preact_resnet18", models.PreActResNet18),
    ("wrn28_10", models.WideResNet),
    ("resnet50", models.ResNet50),
    ("small_cnn", models.SmallCNN),
    ("mlp", models.MLP),
  ],
)
def test_create_model(name, cls):
  model = models.create_model(name, num_classes=7, dropout_rate=0.25, dtype=jnp.bfloat16)
  assert type(model) is cls
  assert (model.num_classes, model.dropout_rate, model.dtype) == (7, 0.25, jnp.bfloat16)
  assert set(models.MODELS) == {
    "preact_resnet18",
    "wrn28_10",
    "resnet50",
    "small_cnn",
    "mlp",
    "mnist1d_cnn",
    "cnn1d",
  }


def test_create_model_wrn_is_28_10():
  model = models.create_model("wrn28_10", num_classes=10)
  assert (model.depth, model.widen_factor) == (28, 10)


def test_create_model_errors():
  with pytest.raises(ValueError, match=r"`name` must be one of .*'mlp'.*'resnet50'.*got 'vgg'"):
    models.create_model("vgg", num_classes=10)
  with pytest.raises(ValueError, match=r"`num_classes` must be a positive int, got 0"):
    models.create_model("mlp", num_classes=0)
  with pytest.raises(ValueError, match=r"`num_classes`.*got 2.5"):
    models.create_model("mlp", num_classes=2.5)
  with pytest.raises(ValueError, match=r"`dropout_rate` must be a float in \[0, 1\), got 1.0"):
    models.create_model("mlp", num_classes=10, dropout_rate=1.0)
  with pytest.raises(ValueError, match=r"`dropout_rate`.*got -0.1"):
    models.create_model("mlp", num_classes=10, dropout_rate=-0.1)


def _train(model, variables, tx, x, y, steps, dropout_key):
  @jax.jit
  def step(params, batch_stats, opt_state, key):
    def loss_fn(params):
      logits, updates = model.apply(
        {"params": params, "batch_stats": batch_stats},
        x,
        train=True,
        mutable=["batch_stats"],
        rngs={"dropout": key},
      )
      return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), updates

    (loss, updates), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates_p, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates_p), updates["batch_stats"], opt_state, loss

  params, batch_stats = variables["params"], variables["batch_stats"]
  opt_state = tx.init(params)
  losses = []
  for i in range(steps):
    params, batch_stats, opt_state, loss = step(
      params, batch_stats, opt_state, jax.random.fold_in(dropout_key, i)
    )
    losses.append(float(loss))
  return params, batch_stats, losses


def test_small_cnn_overfits_a_tiny_batch():
  model = models.SmallCNN(num_classes=4, width=4)
  x = _images((8, 8, 8, 1))
  y = jnp.arange(8) % 4
  variables = _init(model, (8, 8, 8, 1))
  _, _, losses = _train(model, variables, optax.sgd(0.1, momentum=0.9), x, y, 30, KEY)
  assert losses[-1] < 0.25 * losses[0], losses


def test_small_cnn_learns_sklearn_digits():
  """SmallCNN reaches >= 97% test accuracy on sklearn's 8×8 digits in seconds (10 epochs)."""
  datasets = pytest.importorskip("sklearn.datasets")
  model_selection = pytest.importorskip("sklearn.model_selection")

  images, labels = datasets.load_digits(return_X_y=True)
  images = (images.reshape(-1, 8, 8, 1) / 16.0).astype(np.float32)
  x_train, x_test, y_train, y_test = model_selection.train_test_split(
    images, labels, test_size=0.25, random_state=0, stratify=labels
  )
  assert len(x_train) == 1347
  model = models.SmallCNN(num_classes=10)
  batch_size, epochs = 64, 10
  steps_per_epoch = len(x_train) // batch_size
  tx = optax.adamw(optax.cosine_decay_schedule(3e-3, epochs * steps_per_epoch), weight_decay=1e-4)

  @jax.jit
  def step(params, batch_stats, opt_state, x, y):
    def loss_fn(params):
      logits, updates = model.apply(
        {"params": params, "batch_stats": batch_stats}, x, train=True, mutable=["batch_stats"]
      )
      return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), updates

    (_, updates), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates_p, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates_p), updates["batch_stats"], opt_state

  variables = _init(model, (1, 8, 8, 1))
  params, batch_stats = variables["params"], variables["batch_stats"]
  opt_state = tx.init(params)
  rng = np.random.default_rng(0)
  for _ in range(epochs):
    order = rng.permutation(len(x_train))
    for i in range(steps_per_epoch):
      idx = order[i * batch_size : (i + 1) * batch_size]
      params, batch_stats, opt_state = step(
        params, batch_stats, opt_state, x_train[idx], y_train[idx]
      )
  logits = model.apply({"params": params, "batch_stats": batch_stats}, x_test, train=False)
  accuracy = float(np.mean(np.asarray(logits.argmax(-1)) == y_test))
  assert accuracy >= 0.97, accuracy


# --- the 1-D models: sequences [B, L] or [B, L, C] ---


def test_mnist1d_cnn_is_the_benchmarks_conv_base():
  # greydanus/mnist1d ConvBase: conv(1→25, k5) 150 + 2 × conv(25→25, k3) 1,900 + dense 1,260.
  model = models.create_model("mnist1d_cnn", num_classes=10)
  variables = _abstract_init(model, (1, 40))
  assert _num_params(variables["params"]) == 5_210
  kernels = [variables["params"][f"Conv_{i}"]["kernel"].shape for i in range(3)]
  assert kernels == [(5, 1, 25), (3, 25, 25), (3, 25, 25)]
  assert variables["params"]["Dense_0"]["kernel"].shape == (125, 10)  # 25 channels × length 5.


@pytest.mark.parametrize("name", ["mnist1d_cnn", "cnn1d"])
def test_1d_models_take_length_or_length_and_channels(name):
  model = models.create_model(name, num_classes=10)
  signals = _images((3, 40))
  variables = _init(model, (3, 40))
  apply = jax.jit(functools.partial(model.apply, train=False))
  np.testing.assert_array_equal(apply(variables, signals), apply(variables, signals[..., None]))
  eager = model.apply(variables, signals, train=False)
  np.testing.assert_allclose(apply(variables, signals), eager, rtol=1e-5, atol=1e-6)
  with pytest.raises(ValueError, match=r"`x` must be rank 2 .* or rank 3 .*\(3, 8, 8, 1\)"):
    model.apply(variables, _images((3, 8, 8, 1)), train=False)


def test_cnn1d_serves_speech_frames_and_tabular_rows_of_any_length():
  model = models.create_model("cnn1d", num_classes=4)
  for shape in [(2, 98, 40), (2, 13), (2, 1)]:  # Speech frames [B, T, F]; table rows [B, D].
    variables = _abstract_init(model, shape)
    logits = jax.eval_shape(
      functools.partial(model.apply, train=False),
      variables,
      jax.ShapeDtypeStruct(shape, jnp.float32),
    )
    assert logits.shape == (2, 4)
  # 24,954 for 10 classes (the docstring) minus 6 classes of the 64-wide dense head.
  assert _num_params(_abstract_init(model, (1, 40))["params"]) == 24_954 - 6 * 65


# --- manifold mixup boundaries (mixjax.training.manifold) ---

# SMALL_CASES name -> its config.MANIFOLD_LAYERS entry (WRN-10-1 has WRN-28-10's groups).
TABLE_ENTRY = {"wrn10_1": "wrn28_10", "small_cnn": "small_cnn", "mlp": "mlp"}


def _reversing_mix(layer, batch_size, lam=0.3) -> manifold.ManifoldMix:
  """Mixes example i with example B - 1 - i at boundary `layer`."""
  partner = jnp.arange(batch_size - 1, -1, -1, dtype=jnp.int32)
  params = mixjax.MixParams(lam=jnp.float32(lam), partner=partner)
  return manifold.ManifoldMix(layer=jnp.asarray(layer, jnp.int32), params=params)


@pytest.mark.parametrize("name", sorted(SMALL_CASES))
def test_manifold_gradients_reach_the_partner_only_through_the_mix(name):
  """In eval mode (no batch statistics) example 0 depends on its partner only by mixing:
  d logits[0] / d x[partner] is nonzero at every boundary of the table, zero past the last."""
  model, shape = SMALL_CASES[name]
  variables = _init(model, shape)
  x = _images(shape)

  @jax.jit
  def partner_grad(x, layer):
    def first_logits(x_partner):
      mix = _reversing_mix(layer, shape[0])
      return model.apply(variables, x.at[-1].set(x_partner), train=False, mix=mix)[0].sum()

    return jax.grad(first_logits)(x[-1])

  count = config_lib.MANIFOLD_LAYERS[TABLE_ENTRY[name]]
  for layer in range(count + 1):
    grad = np.asarray(partner_grad(x, layer))
    assert np.any(grad != 0) == (layer < count), layer


@pytest.mark.parametrize("name", sorted(SMALL_CASES))
def test_manifold_mixing_in_train_mode_reaches_the_batch_statistics(name):
  """BatchNorm after the boundary normalises the mixed states (as in the paper); λ = 1 and
  `mix=None` give the same logits and statistics."""
  model, shape = SMALL_CASES[name]
  variables = _init(model, shape)
  x = _images(shape)
  apply = jax.jit(functools.partial(model.apply, train=True, mutable=["batch_stats"]))
  plain, plain_stats = apply(variables, x)
  mixed, mixed_stats = apply(variables, x, mix=_reversing_mix(1, shape[0]))
  same, same_stats = apply(variables, x, mix=_reversing_mix(1, shape[0], lam=1.0))
  assert not np.allclose(plain, mixed)
  np.testing.assert_array_equal(plain, same)
  for a, b in zip(jax.tree.leaves(plain_stats), jax.tree.leaves(same_stats), strict=True):
    np.testing.assert_array_equal(a, b)
  if jax.tree.leaves(plain_stats):  # The last BatchNorm comes after boundary 1.
    assert not np.allclose(jax.tree.leaves(plain_stats)[-1], jax.tree.leaves(mixed_stats)[-1])


def test_manifold_layer_zero_is_input_mixup():
  model, shape = SMALL_CASES["small_cnn"]
  variables = _init(model, shape)
  x = _images(shape)
  mix = _reversing_mix(0, shape[0])
  mixed_x, _ = mixjax.apply_mix(x, jnp.eye(shape[0]), mix.params)
  apply = jax.jit(functools.partial(model.apply, train=False))
  # Equal up to float rounding: XLA fuses the blend into the first convolution.
  np.testing.assert_allclose(
    apply(variables, x, mix=mix), apply(variables, mixed_x), rtol=1e-5, atol=1e-6
  )


@pytest.mark.parametrize(
  "name, shape",
  [
    ("preact_resnet18", (1, 32, 32, 3)),
    ("wrn28_10", (1, 32, 32, 3)),
    ("resnet50", (1, 64, 64, 3)),
    ("mnist1d_cnn", (1, 40)),
    ("cnn1d", (1, 40)),
  ],
)
def test_models_have_the_manifold_boundaries_of_the_table(monkeypatch, name, shape):
  """Traced abstractly: the model visits boundaries 0 .. MANIFOLD_LAYERS - 1, in order."""
  seen = []
  original = manifold.mix_hidden

  def recorded(x, index, mix):
    seen.append(index)
    return original(x, index, mix)

  monkeypatch.setattr(manifold, "mix_hidden", recorded)
  model = models.create_model(name, num_classes=10)
  init = functools.partial(model.init, train=False, mix=_reversing_mix(0, 1))
  jax.eval_shape(init, KEY, jax.ShapeDtypeStruct(shape, jnp.float32))
  assert seen == list(range(config_lib.MANIFOLD_LAYERS[name]))


def test_every_model_has_a_manifold_table_entry():
  assert set(config_lib.MANIFOLD_LAYERS) == set(models.MODELS)


def test_every_model_has_an_input_rank_entry():
  assert set(models.INPUT_RANKS) == set(models.MODELS)
  assert models.INPUT_RANKS["mnist1d_cnn"] == (1, 2)
