"""The toy mixtures."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from mixjax.experiments.gan import data
from mixjax.experiments.gan import metrics


def test_datasets():
  ring, grid = data.ring(), data.grid()
  assert ring.modes.shape == (8, 2) and grid.modes.shape == (25, 2)
  np.testing.assert_allclose(np.linalg.norm(ring.modes, axis=1), 2.0, rtol=1e-6)
  assert sorted(set(grid.modes[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
  assert (ring.std, grid.std) == (0.02, 0.05)
  samples = np.asarray(
    data.sample_data(jax.random.key(0), *data.padded_modes(ring), jnp.float32(ring.std), 4000)
  )
  result = metrics.mode_metrics(samples, ring, 20)
  assert result["modes"] == 8 and result["high_quality"] > 0.98 and result["mode_kl"] < 0.01


def test_padded_modes():
  modes, count = data.padded_modes(data.ring())
  assert modes.shape == (data.MAX_MODES, 2) == (25, 2) and int(count) == 8
  np.testing.assert_array_equal(np.asarray(modes[:8]), data.ring().modes)
  assert not np.asarray(modes[8:]).any()
