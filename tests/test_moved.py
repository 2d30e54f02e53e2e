"""Old module paths keep working for one release, with a DeprecationWarning."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

MOVED = {
  "mixjax.augment": ("mixjax._crop_flip", "random_crop"),
  "mixjax.config": ("mixjax.training.config", "default_config"),
  "mixjax.models": ("mixjax.training.models", "create_model"),
  "mixjax.checkpoint": ("mixjax.training.checkpoint", "Checkpointer"),
  "mixjax.reporting": ("mixjax.training.reporting", "MetricsLog"),
  "mixjax.distributed": ("mixjax.training.distributed", "initialize"),
  "mixjax.trainer": ("mixjax.training.loop", "train_and_evaluate"),
  "mixjax.train_step": ("mixjax.training.parallel", "Parallel"),
  "mixjax.compare": ("mixjax.training.compare", "format_table"),
  "mixjax.cross_validation": ("mixjax.training.cross_validation", "cross_validate"),
  "mixjax.attacks": ("mixjax.experiments.adversarial.attacks", "fgsm"),
}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_path_warns_and_gives_the_same_objects(old):
  new, name = MOVED[old]
  sys.modules.pop(old, None)
  with pytest.warns(DeprecationWarning, match=f"`{old}` moved to `{new.rsplit('.', 1)[0]}"):
    module = importlib.import_module(old)
  assert getattr(module, name) is getattr(importlib.import_module(new), name)


def test_train_step_alias_has_both_step_and_driver():
  sys.modules.pop("mixjax.train_step", None)
  with pytest.warns(DeprecationWarning):
    module = importlib.import_module("mixjax.train_step")
  from mixjax.training import step

  assert module.train_step is step.train_step
  assert module.TrainState is step.TrainState


def test_old_command_still_runs_and_says_where_it_moved():
  result = subprocess.run(
    [sys.executable, "-m", "mixjax.compare", "--help"], capture_output=True, text=True
  )
  # absl prints the help of the new module's flags (and exits 1 after --help, as absl does).
  assert "use `python -m mixjax.training.compare`" in result.stderr
  assert "--mixes" in result.stdout, result.stderr
