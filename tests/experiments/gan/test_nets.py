"""The generator and discriminator, their optimiser and the train state."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from mixjax.experiments.gan import config
from mixjax.experiments.gan import nets as nets_lib


def _nets(latent_dim=3):
  settings = config.make_config(quick=True, hidden=8, num_layers=2, batch_size=4)
  return settings, nets_lib.make_networks(settings, latent_dim)


def test_networks_follow_the_config():
  settings, nets = _nets()
  assert (nets.latent_dim, nets.batch_size, nets.disc_steps) == (3, 4, settings.disc_steps)
  assert nets.mix_mode == settings.mix_mode == "elem"
  for net, features in ((nets.generator, 2), (nets.discriminator, 1)):
    assert (net.hidden, net.num_layers, net.features) == (8, 2, features)


def test_init_state_and_generate():
  _, nets = _nets()
  state = nets_lib.init_state(jax.random.key(0), nets)
  assert int(state.step) == 0
  # Two hidden layers and the output layer, each a kernel and a bias.
  kernels = [leaf.shape for leaf in jax.tree.leaves(state.gen) if leaf.ndim == 2]
  assert kernels == [(3, 8), (8, 8), (8, 2)]
  kernels = [leaf.shape for leaf in jax.tree.leaves(state.disc) if leaf.ndim == 2]
  assert kernels == [(2, 8), (8, 8), (8, 1)]
  # Adam's moments start at zero, shaped like the parameters.
  mu = state.gen_opt[0].mu
  assert all(not np.asarray(m).any() for m in jax.tree.leaves(mu))
  again = nets_lib.init_state(jax.random.key(0), nets)
  jax.tree.map(np.testing.assert_array_equal, state.gen, again.gen)
  other = nets_lib.init_state(jax.random.key(1), nets)
  assert not np.allclose(jax.tree.leaves(state.gen)[1], jax.tree.leaves(other.gen)[1])
  samples = nets_lib.generate(state.gen, jax.random.key(2), 5, nets)
  assert samples.shape == (5, 2) and samples.dtype == jnp.float32
  # The samples are the generator applied to N(0, 1) noise drawn from the key.
  z = jax.random.normal(jax.random.key(2), (5, 3), jnp.float32)
  np.testing.assert_allclose(samples, nets.generator.apply(state.gen, z), rtol=1e-6)
