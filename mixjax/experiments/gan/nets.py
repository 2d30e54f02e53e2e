"""The generator and discriminator, their optimiser and the train state."""

from __future__ import annotations

from typing import Any
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from mixjax.experiments.gan.config import GanConfig


class MLP(nn.Module):
  """`num_layers` hidden ReLU layers of `hidden` units, then a linear layer."""

  hidden: int
  num_layers: int
  features: int

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    for _ in range(self.num_layers):
      x = nn.relu(nn.Dense(self.hidden)(x))
    return nn.Dense(self.features)(x)


class Networks(NamedTuple):
  """The static parts of a run: models, optimiser and sizes."""

  generator: MLP  # z [N, latent_dim] -> x [N, 2].
  discriminator: MLP  # x [N, 2] -> logit [N, 1].
  optimizer: optax.GradientTransformation
  latent_dim: int
  batch_size: int
  disc_steps: int
  mix_mode: str


class TrainState(NamedTuple):
  """Both networks' parameters and optimiser states, and the generator steps done."""

  gen: Any
  disc: Any
  gen_opt: Any
  disc_opt: Any
  step: jax.Array  # int32 [], generator steps done.


def make_networks(config: GanConfig, latent_dim: int) -> Networks:
  """The networks of `config` for noise of size `latent_dim`."""
  return Networks(
    generator=MLP(config.hidden, config.num_layers, 2),
    discriminator=MLP(config.hidden, config.num_layers, 1),
    optimizer=optax.adam(config.learning_rate, b1=config.b1, b2=config.b2),
    latent_dim=latent_dim,
    batch_size=config.batch_size,
    disc_steps=config.disc_steps,
    mix_mode=config.mix_mode,
  )


def init_state(key: jax.Array, nets: Networks) -> TrainState:
  """Fresh parameters for both networks (from `key`) and their optimiser states."""
  key_gen, key_disc = jax.random.split(key)
  gen = nets.generator.init(key_gen, jnp.zeros((1, nets.latent_dim)))
  disc = nets.discriminator.init(key_disc, jnp.zeros((1, 2)))
  return TrainState(
    gen, disc, nets.optimizer.init(gen), nets.optimizer.init(disc), jnp.zeros((), jnp.int32)
  )


def generate(gen: Any, key: jax.Array, num: int, nets: Networks) -> jax.Array:
  """float32 `[num, 2]` generator samples from standard normal noise."""
  z = jax.random.normal(key, (num, nets.latent_dim), jnp.float32)
  return nets.generator.apply(gen, z)
