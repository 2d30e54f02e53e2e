"""Mode coverage and sample quality."""

from __future__ import annotations

import numpy as np
import pytest

from mixjax.experiments.gan import data
from mixjax.experiments.gan import metrics


def test_mode_metrics_on_known_samples():
  ring = data.ring()
  collapsed = np.repeat(ring.modes[:1], 100, axis=0)
  result = metrics.mode_metrics(collapsed, ring, 20)
  assert result == {
    "modes": 1,
    "high_quality": 1.0,
    "mode_kl": pytest.approx(np.log(8)),
    "counts": [100] + [0] * 7,
  }
  # 19 samples on a mode do not cover it; far-away samples are not high quality.
  samples = np.concatenate([np.repeat(ring.modes[:1], 19, axis=0), np.full((10, 2), 50.0)])
  result = metrics.mode_metrics(samples, ring, 20)
  assert result["modes"] == 0 and result["high_quality"] == pytest.approx(19 / 29)
  # Two modes equally often: KL(p ‖ uniform over 8) = log 4.
  even = np.repeat(ring.modes[:2], 30, axis=0)
  assert metrics.mode_metrics(even, ring, 20)["mode_kl"] == pytest.approx(np.log(4))


def test_late_modes_and_select():
  curve = [{"step": s, "modes": m} for s, m in ((10, 1), (50, 2), (75, 4), (100, 6))]
  assert metrics.late_modes(curve, 100) == 5.0
  runs = [{"dataset": "ring", "seed": 0}, {"dataset": "grid", "seed": 0}]
  assert metrics.select(runs, dataset="grid") == [runs[1]]
