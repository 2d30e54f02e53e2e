"""The per-device train step: its static config, keys, α = 0, gradient averaging."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from mixjax.training import config as config_lib
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


def test_gradients_are_averaged_over_devices():
  """One pmapped step equals one step on the whole batch's mean of per-shard gradients."""
  cfg = step_config(mix="none")
  state = make_state()
  batch = make_batch()
  new_state, _ = run_steps("pmap", cfg, {"mixup_alpha": 0.0, "cutmix_alpha": 0.0}, num_steps=1)

  def shard_grad(images, labels, index):
    key = jax.random.fold_in(jax.random.fold_in(jax.random.wrap_key_data(state.rng), 0), index)
    _, dropout_key = jax.random.split(key)

    def loss_fn(params):
      logits, _ = state.apply_fn(
        {"params": params, "batch_stats": state.batch_stats},
        images,
        train=True,
        rngs={"dropout": dropout_key},
        mutable=["batch_stats"],
      )
      return optax.softmax_cross_entropy(logits, jax.nn.one_hot(labels, NUM_CLASSES)).mean()

    return jax.grad(loss_fn)(state.params)

  shards = [
    shard_grad(batch["image"][2 * i : 2 * i + 2], batch["label"][2 * i : 2 * i + 2], i)
    for i in range(NUM_DEVICES)
  ]
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
