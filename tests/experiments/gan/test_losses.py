"""The discriminator and generator losses."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from mixjax.experiments.gan import config
from mixjax.experiments.gan import data
from mixjax.experiments.gan import losses
from mixjax.experiments.gan import nets as nets_lib


def test_zero_alpha_is_the_plain_gan_loss():
  nets = nets_lib.make_networks(config.make_config(quick=True), 2)
  state = jax.jit(functools.partial(nets_lib.init_state, nets=nets))(jax.random.key(0))
  target = (*data.padded_modes(data.ring()), jnp.float32(0.02))
  key = jax.random.key(1)
  loss = jax.jit(functools.partial(losses.discriminator_loss, nets=nets))
  mixed = loss(state.disc, state.gen, key, jnp.float32(0.0), target)

  @jax.jit
  def plain_loss(state, key, target):
    # The plain GAN's loss, written out: real examples against 1, fakes against 0.
    key_real, key_fake, _ = jax.random.split(key, 3)
    real = data.sample_data(key_real, *target, nets.batch_size)
    fake = nets_lib.generate(state.gen, key_fake, nets.batch_size, nets)
    logits = nets.discriminator.apply(state.disc, jnp.concatenate([real, fake]))[:, 0]
    half = nets.batch_size
    return jnp.mean(
      jnp.concatenate([jax.nn.softplus(-logits[:half]), jax.nn.softplus(logits[half:])])
    )

  np.testing.assert_allclose(float(mixed), float(plain_loss(state, key, target)), rtol=1e-5)
  assert float(loss(state.disc, state.gen, key, jnp.float32(0.2), target)) != float(mixed)
  # The generator's loss is the discriminator's "real" loss on its own samples.
  gen_loss = losses.generator_loss(state.gen, state.disc, key, nets)
  fake = nets_lib.generate(state.gen, key, nets.batch_size, nets)
  logits = nets.discriminator.apply(state.disc, fake)[:, 0]
  np.testing.assert_allclose(float(gen_loss), float(jax.nn.softplus(-logits).mean()), rtol=1e-5)
