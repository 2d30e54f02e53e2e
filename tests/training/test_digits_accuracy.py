"""The main job's promise: digits reaches >= 97% test accuracy with ERM, mixup and manifold
mixup.

Slow (three full 30-epoch runs, about a minute and a half on 2 cores): `make test-slow`.
"""

from __future__ import annotations

import pytest

from mixjax.training import loop
from tests.training import helpers


@pytest.mark.slow
@pytest.mark.parametrize("mix", ["none", "mixup", "manifold_mixup"])
def test_digits_config_reaches_97_percent(tmp_path, mix):
  config = helpers.load_config("digits", mix=mix)
  summary = loop.train_and_evaluate(config, str(tmp_path))
  assert summary["epochs"] == 30
  assert summary["last_test_accuracy"] >= 0.97
  assert summary["best_test_accuracy"] >= summary["last_test_accuracy"]
