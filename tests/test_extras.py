"""A training module imported without the `train` extra names the extra to install."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
  ("package", "missing"),
  [
    ("mixjax.training", "flax"),
    ("mixjax.training.loop", "orbax"),
    ("mixjax.data", "sklearn"),
    ("mixjax.experiments", "optax"),
  ],
)
def test_missing_extra_names_the_extra(package, missing):
  # `sys.modules[name] = None` makes `import name` fail as if it were not installed.
  code = f"import sys; sys.modules[{missing!r}] = None\nimport {package}\n"
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
  assert result.returncode == 1
  assert "needs the `train` extra" in result.stderr
  assert "pip install 'mixjax[train]'" in result.stderr


def test_with_the_extra_installed_the_harness_imports():
  from mixjax import training

  assert callable(training.train_and_evaluate)
  assert training.default_config().dataset == "digits"
