"""The two losses: the (mixup) discriminator's and the non-saturating generator's.

The discriminator of a mixup GAN never sees a pure real or fake batch: it is trained on
`λ·x_real + (1-λ)·G(z)` with target λ (real = 1, fake = 0), λ ~ Beta(α, α). With α = 0
mixup returns the batch unchanged, which is exactly the plain GAN's loss.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

import mixjax
from mixjax.experiments.gan.data import sample_data
from mixjax.experiments.gan.nets import Networks
from mixjax.experiments.gan.nets import generate


def discriminator_loss(disc, gen, key, alpha, data, nets: Networks) -> jax.Array:
  """Binary cross-entropy of D on mixed real/fake pairs with target λ (α = 0: plain GAN)."""
  key_real, key_fake, key_mix = jax.random.split(key, 3)
  batch = nets.batch_size
  real = sample_data(key_real, *data, batch)
  fake = jax.lax.stop_gradient(generate(gen, key_fake, batch, nets))
  inputs = jnp.concatenate([real, fake])
  realness = jnp.concatenate([jnp.ones((batch, 1)), jnp.zeros((batch, 1))])
  # Flip pairing: real i <-> fake B-1-i; the label mixes to λ (real side) and 1-λ (fake side).
  inputs, realness = mixjax.mixup(
    key_mix, inputs, realness, alpha=alpha, mode=nets.mix_mode, pairing="flip"
  )
  logits = nets.discriminator.apply(disc, inputs)[:, 0]
  return optax.sigmoid_binary_cross_entropy(logits, realness[:, 0]).mean()


def generator_loss(gen, disc, key, nets: Networks) -> jax.Array:
  """Non-saturating generator loss: BCE of D(G(z)) against "real"."""
  logits = nets.discriminator.apply(disc, generate(gen, key, nets.batch_size, nets))[:, 0]
  return optax.sigmoid_binary_cross_entropy(logits, jnp.ones_like(logits)).mean()
