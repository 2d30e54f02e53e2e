"""The vmapped trainer: a group of runs side by side is each run on its own."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from mixjax.experiments.gan import config
from mixjax.experiments.gan import data
from mixjax.experiments.gan import nets as nets_lib
from mixjax.experiments.gan import trainer


def test_eval_and_snapshot_points():
  assert trainer.eval_points(500, 4) == [10, 100, 125, 250, 375, 500]
  assert trainer.snapshot_points(500) == [10, 100, 500]
  assert trainer.snapshot_points(100) == [10, 100]


def test_vmapped_group_equals_each_run_alone():
  settings = config.make_config(
    quick=True, steps=3, disc_steps=1, hidden=8, num_layers=1, batch_size=8, num_samples=16
  )
  group = trainer.make_trainer(settings, 2)
  keys = jnp.stack([jax.random.key(s) for s in (4, 4, 5)])
  alphas = jnp.asarray([0.0, 0.2, 0.2], jnp.float32)
  target = (*data.padded_modes(data.ring()), jnp.float32(0.02))
  states = group.train_fn(group.init_fn(keys), keys, jnp.int32(3), alphas, target)
  init = jax.jit(functools.partial(nets_lib.init_state, nets=group.nets))
  train = jax.jit(functools.partial(trainer.train_for, nets=group.nets))
  for r in range(3):
    alone = train(init(keys[r]), keys[r], jnp.int32(3), alphas[r], target)
    assert int(alone.step) == int(states.step[r]) == 3
    for got, want in zip(jax.tree.leaves(states.gen), jax.tree.leaves(alone.gen), strict=True):
      np.testing.assert_allclose(np.asarray(got[r]), np.asarray(want), rtol=1e-4, atol=1e-6)
  # The same seed starts the same networks; α = 0 and α = 0.2 then train them apart.
  init = group.init_fn(keys)
  first = jax.tree.leaves(init.gen)[0]
  np.testing.assert_array_equal(np.asarray(first[0]), np.asarray(first[1]))
  trained = jax.tree.leaves(states.disc)[0]
  assert not np.allclose(np.asarray(trained[0]), np.asarray(trained[1]))
