"""The experiment registry."""

from __future__ import annotations

import pytest

from mixjax import experiments
from mixjax.experiments import __main__ as cli


def test_registry_is_lazy_and_reports_missing_modules(monkeypatch, capsys):
  assert {"gan", "figures", "corrupted_labels", "adversarial", "tabular", "speech"} <= set(
    experiments.REGISTRY
  )
  assert {"gan", "figures"} <= set(experiments.available())
  monkeypatch.setitem(experiments.REGISTRY, "missing", "mixjax.experiments.not_written_yet")
  with pytest.raises(experiments.ExperimentNotAvailable, match="not available yet"):
    experiments.load("missing")
  with pytest.raises(KeyError, match="Unknown experiment 'nope'"):
    experiments.load("nope")
  with pytest.raises(SystemExit) as exit_info:
    cli.main(["missing", "--out", "/tmp/unused"])
  assert exit_info.value.code == 2
  assert "not available yet" in capsys.readouterr().err


def test_every_registered_experiment_loads_with_run_and_options():
  assert set(experiments.available()) == set(experiments.REGISTRY)
  for name in experiments.REGISTRY:
    module = experiments.load(name)
    assert callable(module.run), name
