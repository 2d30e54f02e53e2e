"""The vmapped trainer: runs trained side by side do not affect one another."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from mixjax.experiments.gan import config
from mixjax.experiments.gan import data
from mixjax.experiments.gan import trainer


def test_eval_and_snapshot_points():
  assert trainer.eval_points(500, 4) == [10, 100, 125, 250, 375, 500]
  assert trainer.snapshot_points(500) == [10, 100, 500]
  assert trainer.snapshot_points(100) == [10, 100]


def test_a_run_does_not_depend_on_its_neighbours():
  settings = config.make_config(
    quick=True, steps=3, disc_steps=1, hidden=8, num_layers=1, batch_size=8, num_samples=16
  )
  group = trainer.make_trainer(settings, 2)
  target = (*data.padded_modes(data.ring()), jnp.float32(0.02))

  def train(seeds, alphas):
    keys = jnp.stack([jax.random.key(s) for s in seeds])
    states = group.init_fn(keys)
    states = group.train_fn(states, keys, jnp.int32(3), jnp.asarray(alphas, jnp.float32), target)
    return [np.asarray(leaf) for leaf in jax.tree.leaves((states.gen, states.disc))]

  # Run 0 (seed 4, α = 0.2) beside a plain GAN of seed 5, then beside a mixup GAN of seed 6.
  first, second = train([4, 5], [0.2, 0.0]), train([4, 6], [0.2, 0.2])
  for a, b in zip(first, second, strict=True):
    np.testing.assert_array_equal(a[0], b[0])
  # The neighbours themselves trained differently (another seed and α).
  assert any(not np.allclose(a[1], b[1]) for a, b in zip(first, second, strict=True))
