"""The speech recipe and the per-run configs derived from it."""

from __future__ import annotations

import importlib.util
import os

import pytest

from mixjax.experiments.speech import recipe
from mixjax.training import config as config_lib

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def test_recipe_is_a_valid_config_and_configs_file_returns_it():
  config = recipe.get_config()
  config_lib.validate(config)
  assert (config.dataset, config.model, config.num_epochs) == ("speech_commands", "small_cnn", 30)
  assert (config.optimizer, config.learning_rate, tuple(config.lr_milestones)) == (
    "adam",
    3e-3,
    (10, 20),
  )
  assert (config.mix, config.mixup_alpha) == ("mixup", 0.1)
  # configs/speech_commands.py, loaded by path as train.py does, is the same recipe.
  path = os.path.join(_ROOT, "configs", "speech_commands.py")
  spec = importlib.util.spec_from_file_location("speech_commands_config", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  assert module.get_config().to_dict() == config.to_dict()


def test_make_config():
  erm = recipe.make_config(None, seed=3, data_dir=None, epochs=None, quick=False)
  assert (erm.mix, erm.seed, erm.data_dir, erm.num_epochs) == ("none", 3, "", 30)
  mixup = recipe.make_config(0.4, seed=0, data_dir="/d", epochs=15, quick=False, model="mlp")
  assert (mixup.mix, mixup.mixup_alpha, mixup.model, mixup.data_dir) == ("mixup", 0.4, "mlp", "/d")
  # The milestones scale with the epochs: 10, 20 of 30 -> 5, 10 of 15.
  assert (mixup.num_epochs, tuple(mixup.lr_milestones)) == (15, (5, 10))
  quick = recipe.make_config(0.1, seed=0, data_dir=None, epochs=None, quick=True)
  assert (quick.num_epochs, quick.batch_size, quick.eval_batch_size) == (1, 16, 16)
  assert tuple(quick.lr_milestones) == () and quick.checkpoint_every_epochs == 1
  for config in (erm, mixup, quick):
    config_lib.validate(config)


def test_make_config_rejects_bad_options():
  with pytest.raises(ValueError, match="`epochs` must be a positive int, got 0"):
    recipe.make_config(None, seed=0, data_dir=None, epochs=0, quick=False)
  with pytest.raises(ValueError, match="`model` must be one of"):
    recipe.make_config(None, seed=0, data_dir=None, epochs=None, quick=False, model="rnn")


def test_method_names():
  assert [recipe.method_name(a) for a in (None, 0.1, 2.0)] == ["erm", "mixup0.1", "mixup2"]
  assert [recipe.method_label(a) for a in (None, 0.1)] == ["ERM", "mixup (α=0.1)"]
