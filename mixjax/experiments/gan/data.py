"""The toy target distributions: mixtures of equally likely 2-D Gaussians.

* `ring`: 8 Gaussians, means evenly spaced on a circle of radius 2, std 0.02;
* `grid`: 25 Gaussians, means on the grid {-4, -2, 0, 2, 4}², std 0.05

(the toy mixtures used by Metz et al. 2017 and Srivastava et al. 2017, VEEGAN).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class Dataset(NamedTuple):
  """A mixture of equally likely isotropic Gaussians."""

  modes: np.ndarray  # float32 [K, 2], the means.
  std: float  # Standard deviation of every component.


def ring(num_modes: int = 8, radius: float = 2.0, std: float = 0.02) -> Dataset:
  """`num_modes` Gaussians evenly spaced on a circle."""
  angles = 2 * np.pi * np.arange(num_modes) / num_modes
  modes = radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
  return Dataset(modes.astype(np.float32), std)


def grid(size: int = 5, spacing: float = 2.0, std: float = 0.05) -> Dataset:
  """`size²` Gaussians on a square grid centred on the origin."""
  axis = spacing * (np.arange(size) - (size - 1) / 2)
  xs, ys = np.meshgrid(axis, axis, indexing="ij")
  modes = np.stack([xs.ravel(), ys.ravel()], axis=-1)
  return Dataset(modes.astype(np.float32), std)


DATASETS = {"ring": ring, "grid": grid}
MAX_MODES = max(len(make().modes) for make in DATASETS.values())


def padded_modes(data: Dataset) -> tuple[jax.Array, jax.Array]:
  """The means, zero-padded to float32 `[MAX_MODES, 2]`, and their count (int32 `[]`).

  Padding lets every dataset share one compiled training program.
  """
  modes = np.zeros((MAX_MODES, 2), np.float32)
  modes[: len(data.modes)] = data.modes
  return jnp.asarray(modes), jnp.int32(len(data.modes))


def sample_data(
  key: jax.Array, modes: jax.Array, num_modes: jax.Array, std: jax.Array, num: int
) -> jax.Array:
  """float32 `[num, 2]` samples from the mixture of the first `num_modes` of `modes`."""
  key_mode, key_noise = jax.random.split(key)
  index = jax.random.randint(key_mode, (num,), 0, num_modes)
  return modes[index] + std * jax.random.normal(key_noise, (num, 2), jnp.float32)
