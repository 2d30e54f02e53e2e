"""The main job's promise: digits reaches >= 97% test accuracy with ERM and with mixup.

Slow (two full 30-epoch runs, about a minute on 2 cores): `make test-slow`.
"""

from __future__ import annotations

import pytest

from mixjax.training import loop
from tests.training import helpers


@pytest.mark.slow
@pytest.mark.parametrize("mix", ["none", "mixup"])
def test_digits_config_reaches_97_percent(tmp_path, mix):
  config = helpers.load_config("digits", mix=mix)
  summary = loop.train_and_evaluate(config, str(tmp_path))
  assert summary["epochs"] == 30
  assert summary["last_test_accuracy"] >= 0.97
  assert summary["best_test_accuracy"] >= summary["last_test_accuracy"]
