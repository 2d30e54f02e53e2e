"""The per-device train step: its static config, keys, α = 0, gradient averaging."""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from mixjax.training import config as config_lib
from mixjax.training import parallel as parallel_lib
from mixjax.training import step as step_lib
from tests.training.helpers import NUM_CLASSES
from tests.training.helpers import NUM_DEVICES
from tests.training.helpers import make_batch
from tests.training.helpers import make_state
from tests.training.helpers import run_steps
from tests.training.helpers import step_config


def test_step_config_takes_every_field_from_the_config_key_of_its_name():
  fields = [f.name for f in dataclasses.fields(step_lib.StepConfig)]
  keys = set(config_lib.default_config().keys())
  assert set(fields) - {"num_classes"} <= keys
  config = config_lib.default_config()
  other = {
    "mix": "cutmix",
    "switch_prob": 0.25,
    "mix_mode": "elem",
    "mix_pairing": "flip",
    "label_smoothing": 0.1,
    "augment": "crop_flip",
    "random_erasing": 0.5,
    "gridmask": 0.75,
    "manifold_layers": (1, 3),
    "loss": "sigmoid",
    "bce_target_thresh": 0.2,
  }
  assert set(other) == set(fields) - {"num_classes"}  # a new field needs a case here
  for key, value in other.items():
    assert config[key] != value, key
    config[key] = value
  cfg = step_lib.StepConfig.from_config(config, num_classes=7)
  assert dataclasses.asdict(cfg) == {"num_classes": 7, **other}


def test_step_config_has_no_defaults_of_its_own():
  assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(step_lib.StepConfig))
  with pytest.raises(TypeError):
    step_lib.StepConfig(num_classes=3)


def test_step_config_casts_to_the_field_types():
  config = config_lib.default_config()
  config.switch_prob = 1  # An int where a float is declared.
  cfg = step_lib.StepConfig.from_config(config, num_classes=2)
  assert type(cfg.switch_prob) is float and cfg.switch_prob == 1.0


def test_alpha_zero_is_exactly_erm():
  """Mixing switched off through the traced α (mix_off_epochs) equals mix='none'."""
  off = {"mixup_alpha": 0.0, "cutmix_alpha": 0.0}
  mixed_cfg = step_config(mix="mixup_or_cutmix")
  erm_cfg = step_config(mix="none")
  mixed_off, _ = run_steps("pmap", mixed_cfg, off, num_steps=2)
  erm, _ = run_steps("pmap", erm_cfg, off, num_steps=2)
  on, _ = run_steps("pmap", mixed_cfg, {"mixup_alpha": 1.0, "cutmix_alpha": 1.0}, num_steps=2)
  for a, b in zip(jax.tree.leaves(mixed_off), jax.tree.leaves(erm), strict=True):
    np.testing.assert_array_equal(a, b)
  assert not np.allclose(on.params["Dense_0"]["kernel"], erm.params["Dense_0"]["kernel"])


ERM = {"mixup_alpha": 0.0, "cutmix_alpha": 0.0}


def _first_step_shard_logits(state, params, batch, index):
  """Device `index`'s train-mode logits of the first step (mix="none"), by hand."""
  key = jax.random.fold_in(jax.random.fold_in(jax.random.wrap_key_data(state.rng), 0), index)
  _, dropout_key = jax.random.split(key)
  shard = jax.tree.map(lambda x: jax.lax.dynamic_slice_in_dim(x, 2 * index, 2), batch)
  logits, _ = state.apply_fn(
    {"params": params, "batch_stats": state.batch_stats},
    shard["image"],
    train=True,
    rngs={"dropout": dropout_key},
    mutable=["batch_stats"],
  )
  return logits, jax.nn.one_hot(shard["label"], NUM_CLASSES)


def test_gradients_are_averaged_over_devices():
  """One pmapped step equals one step on the whole batch's mean of per-shard gradients."""
  cfg = step_config(mix="none")
  state = make_state()
  batch = make_batch()
  new_state, _ = run_steps("pmap", cfg, ERM, num_steps=1)

  def shard_grad(index):
    def loss_fn(params):
      logits, targets = _first_step_shard_logits(state, params, batch, index)
      return optax.softmax_cross_entropy(logits, targets).mean()

    return jax.grad(loss_fn)(state.params)

  shards = [shard_grad(i) for i in range(NUM_DEVICES)]
  mean_grad = jax.tree.map(lambda *g: sum(g) / NUM_DEVICES, *shards)
  expected = state.apply_gradients(grads=mean_grad)
  np.testing.assert_allclose(
    new_state.params["Dense_1"]["kernel"],
    expected.params["Dense_1"]["kernel"],
    rtol=1e-4,
    atol=1e-6,
  )


def test_devices_mix_with_different_keys():
  state = make_state()
  keys = jax.pmap(lambda _: jax.random.key_data(step_lib.step_key(state)), axis_name="data")(
    jnp.zeros(NUM_DEVICES)
  )
  assert len({tuple(np.asarray(k)) for k in keys}) == NUM_DEVICES


# --- manifold mixup in the step ---

MANIFOLD = {"mix": "manifold_mixup", "manifold_layers": (0, 1)}


def test_manifold_mixup_alpha_zero_is_exactly_erm():
  """α = 0 (mix_off_epochs) equals mix='none' bit for bit; α > 0 differs, also when only the
  hidden layer (1) is eligible: the step hands the mix to the model."""
  off, _ = run_steps("pmap", step_config(**MANIFOLD), ERM, num_steps=2)
  erm, _ = run_steps("pmap", step_config(mix="none"), ERM, num_steps=2)
  hidden = step_config(mix="manifold_mixup", manifold_layers=(1,))
  on, _ = run_steps("pmap", hidden, {"mixup_alpha": 1.0, "cutmix_alpha": 0.0}, num_steps=2)
  for a, b in zip(jax.tree.leaves(off), jax.tree.leaves(erm), strict=True):
    np.testing.assert_array_equal(a, b)
  assert not np.allclose(on.params["Dense_0"]["kernel"], erm.params["Dense_0"]["kernel"])


def test_manifold_mixup_pmap_and_shard_map_give_the_same_state():
  cfg = step_config(**MANIFOLD, mix_mode="elem")
  hparams = {"mixup_alpha": 1.0, "cutmix_alpha": 1.0}
  pmap_state, pmap_losses = run_steps("pmap", cfg, hparams)
  shmap_state, shmap_losses = run_steps("shard_map", cfg, hparams)
  np.testing.assert_allclose(pmap_losses, shmap_losses, rtol=1e-5)
  for a, b in zip(jax.tree.leaves(pmap_state), jax.tree.leaves(shmap_state), strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_manifold_mixup_switches_alpha_without_recompiling(monkeypatch):
  traces = []
  original = parallel_lib.train_step

  def counted(*args, **kwargs):
    traces.append(1)
    return original(*args, **kwargs)

  monkeypatch.setattr(parallel_lib, "train_step", counted)
  parallel = parallel_lib.Parallel("pmap", step_config(**MANIFOLD))
  state = parallel.put_state(jax.tree.map(np.asarray, make_state()))
  for i, alpha in enumerate([1.0, 0.0, 0.4]):
    state, _ = parallel.train(
      state, make_batch(seed=i), {"mixup_alpha": alpha, "cutmix_alpha": 0.0}
    )
  assert len(traces) == 1


def test_prepare_inputs_hands_manifold_mixup_to_the_model():
  batch = make_batch()
  prepare = jax.jit(functools.partial(step_lib.prepare_inputs, cfg=step_config(**MANIFOLD)))
  inputs, targets, mix = prepare(
    jax.random.key(0), batch["image"], batch["label"], mixup_alpha=1.0, cutmix_alpha=1.0
  )
  np.testing.assert_array_equal(inputs, batch["image"])  # Mixed inside the model, not here.
  assert int(mix.layer) in (0, 1)
  lam = mix.params.lam
  one_hot = jax.nn.one_hot(batch["label"], NUM_CLASSES)
  expected = lam * one_hot + (1 - lam) * one_hot[mix.params.partner]
  np.testing.assert_allclose(targets, expected, rtol=1e-6, atol=1e-7)
  _, _, none = step_lib.prepare_inputs(
    jax.random.key(0),
    batch["image"],
    batch["label"],
    step_config(mix="none"),
    mixup_alpha=1.0,
    cutmix_alpha=1.0,
  )
  assert none is None


# --- the loss ---

LOGITS = np.array([[2.0, -1.0, 0.5], [-0.3, 0.8, 1.2]], np.float32)
# mixup of one-hot labels 0 and 1 with λ = 0.75, smoothed by 0.3 (off-value 0.1).
TARGETS = np.array([[0.75, 0.25, 0.0], [0.25, 0.75, 0.0]], np.float32) * 0.7 + 0.1


def _hand_bce(logits, targets):
  p = 1 / (1 + np.exp(-logits.astype(np.float64)))
  return float(np.mean(-(targets * np.log(p) + (1 - targets) * np.log(1 - p))))


def test_softmax_loss_is_the_cross_entropy_of_the_soft_targets():
  z = LOGITS.astype(np.float64)
  log_softmax = z - np.log(np.exp(z).sum(-1, keepdims=True))
  expected = float(np.mean(-(TARGETS * log_softmax).sum(-1)))
  got = step_lib.loss(jnp.asarray(LOGITS), jnp.asarray(TARGETS), step_config(loss="softmax"))
  np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_sigmoid_loss_is_bce_averaged_over_examples_and_classes():
  got = step_lib.loss(jnp.asarray(LOGITS), jnp.asarray(TARGETS), step_config(loss="sigmoid"))
  np.testing.assert_allclose(got, _hand_bce(LOGITS, TARGETS), rtol=1e-6)


@pytest.mark.parametrize(
  "threshold, binary",
  [
    (0.2, [[1, 1, 0], [1, 1, 0]]),  # 0.625 and 0.275 pass, the smoothing's 0.1 does not.
    (0.5, [[1, 0, 0], [0, 1, 0]]),
    (0.275, [[1, 0, 0], [0, 1, 0]]),  # Strictly above, as timm's `target.gt(threshold)`.
  ],
)
def test_bce_target_threshold_binarises_the_mixed_targets_as_timm(threshold, binary):
  targets = jnp.asarray(TARGETS)
  assert float(targets[0, 1]) == np.float32(0.275)
  cfg = step_config(loss="sigmoid", bce_target_thresh=threshold)
  got = step_lib.loss(jnp.asarray(LOGITS), targets, cfg)
  np.testing.assert_allclose(got, _hand_bce(LOGITS, np.array(binary, np.float32)), rtol=1e-6)


def test_the_step_trains_on_the_configured_loss():
  """The first step's loss metric is the mean over devices of each shard's BCE."""
  state = make_state()
  batch = make_batch()
  _, losses = run_steps("pmap", step_config(mix="none", loss="sigmoid"), ERM, num_steps=1)
  logits, targets = jax.jit(
    jax.vmap(functools.partial(_first_step_shard_logits, state, state.params, batch))
  )(jnp.arange(NUM_DEVICES))
  # Equal shards: the mean of the per-shard means is the mean over all [8, 2, 3] terms.
  expected = _hand_bce(np.asarray(logits), np.asarray(targets))
  np.testing.assert_allclose(losses[0], expected, rtol=1e-5)


@pytest.mark.parametrize(
  "overrides, match",
  [
    ({"loss": "hinge"}, "config.loss must be one of"),
    (
      {"loss": "sigmoid", "bce_target_thresh": 1.0},
      r"config.bce_target_thresh must be a number in \[0, 1\)",
    ),
    ({"loss": "sigmoid", "bce_target_thresh": -0.1}, "config.bce_target_thresh"),
    ({"loss": "softmax", "bce_target_thresh": 0.2}, "unless config.loss is 'sigmoid'"),
  ],
)
def test_loss_keys_are_validated(overrides, match):
  config = config_lib.default_config()
  for key, value in overrides.items():
    config[key] = value
  with pytest.raises(ValueError, match=match):
    config_lib.validate(config)
