"""Training runs for the experiments: reuse of finished runs, methods, recipes."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from mixjax.experiments import common
from mixjax.experiments import runs
from mixjax.training import config as config_lib
from tests.experiments import outputs


def _finished(workdir, accuracies):
  workdir.mkdir(parents=True)
  summary = {"last_test_accuracy": accuracies[-1], "best_test_accuracy": max(accuracies)}
  (workdir / "summary.json").write_text(json.dumps(summary))
  lines = [json.dumps({"epoch": i + 1, "test_accuracy": a}) for i, a in enumerate(accuracies)]
  (workdir / "metrics.jsonl").write_text("\n".join(lines) + "\n")


def test_train_all_reuses_finished_runs(tmp_path, monkeypatch, capsys):
  outputs.forbid_training(monkeypatch)
  _finished(tmp_path / "runs" / "a", [0.5, 0.75, 0.625])
  _finished(tmp_path / "runs" / "b", [0.25])
  specs = [
    runs.Run("runs/a", "run a", runs.base_config(), fields={"k": 1}),
    runs.Run("runs/b", "run b", runs.base_config()),
  ]
  progress = common.Progress("demo", 2)
  note = lambda t: f"last {t.last_error:.3f} best {t.best_error:.3f}"
  trained = runs.train_all(str(tmp_path), specs, progress, note=note)
  assert [t.summary["last_test_accuracy"] for t in trained] == [0.625, 0.25]
  assert [len(t.records) for t in trained] == [3, 1] and trained[0].state is None
  assert (trained[0].last_error, trained[0].best_error) == (0.375, 0.25)
  lines = capsys.readouterr().out.splitlines()
  assert lines[0].endswith("demo: run a") and lines[1] == "    last 0.375 best 0.250"
  assert lines[2].endswith("demo: run b") and lines[3] == "    last 0.750 best 0.750"


def test_train_once_restores_the_state_of_a_finished_run(tmp_path):
  config = runs.base_config(dataset="iris", model="mlp", num_epochs=1, seed=0)
  first = runs.train_once(config, str(tmp_path), need_state=True)
  summary, records = outputs.read_run(tmp_path)
  again = runs.train_once(config, str(tmp_path), need_state=True)
  # Nothing trained again: the records (with their wall times) are the first run's, and
  # the state is its final one.
  assert again.records == records == first.records and len(records) == 1
  assert again.summary["last_test_accuracy"] == summary["last_test_accuracy"]
  assert int(again.state.step) == int(first.state.step) > 0
  jax.tree.map(np.testing.assert_array_equal, first.state.params, again.state.params)


def test_a_finished_run_of_another_config_is_refused_not_reused(tmp_path, monkeypatch):
  outputs.forbid_training(monkeypatch)
  _finished(tmp_path / "run", [0.5])
  workdir = str(tmp_path / "run")
  runs.train_once(runs.base_config(mixup_alpha=1.0), workdir)  # Writes config.json.
  assert runs.train_once(runs.base_config(mixup_alpha=1.0), workdir).summary["last_test_accuracy"]
  with pytest.raises(config_lib.ConfigError, match="mixup_alpha: 1.0 -> 4.0"):
    runs.train_once(runs.base_config(mixup_alpha=4.0), workdir)


def test_methods_and_recipe():
  assert runs.erm() == ("ERM", {"mix": "none"})
  assert runs.mixup(2) == ("mixup (α=2)", {"mix": "mixup", "mixup_alpha": 2.0})
  recipe = runs.Recipe().replace("demo", epochs=4, milestones=[2, 3])
  config = recipe.config(seed=5, **runs.mixup(1.0).overrides)
  config_lib.validate(config)
  assert (config.num_epochs, tuple(config.lr_milestones), config.seed) == (4, (2, 3), 5)
  assert config.checkpoint_every_epochs == 4 and config.mix == "mixup"
  assert recipe.describe() == "digits, small_cnn, 4 epochs (lr 0.05 ×0.1 at [2, 3]), batch 64"
  with pytest.raises(TypeError, match=r"Unknown demo option\(s\) \['epoch'\]"):
    recipe.replace("demo", epoch=3)
  with pytest.raises(ValueError, match="Unknown config key 'epochs'"):
    runs.base_config(epochs=3)
