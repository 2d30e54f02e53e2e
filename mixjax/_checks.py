"""Argument checks shared by the ops.

Every check runs at trace time on shapes and dtypes, and on values only when they
are concrete (Python numbers, NumPy arrays, committed jax.Arrays); a traced value is
passed through unchecked so that changing it never forces a recompile.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

MODES = ("batch", "elem")
PAIRINGS = ("permute", "flip")


def is_concrete(x: Any) -> bool:
  """True when `x` has a value at trace time (not a tracer)."""
  return not isinstance(x, jax.core.Tracer)


def check_alpha(alpha: Any, name: str = "alpha") -> None:
  """Checks that a Beta concentration is a finite, non-negative scalar."""
  if jnp.ndim(alpha) != 0:
    raise ValueError(f"`{name}` must be a scalar, got shape {jnp.shape(alpha)}.")
  if not is_concrete(alpha):
    return
  value = float(np.asarray(alpha))
  if not math.isfinite(value) or value < 0:
    raise ValueError(f"`{name}` must be finite and >= 0, got {value!r}.")


def check_probability(p: Any, name: str) -> None:
  """Checks that `p` is a scalar in [0, 1] (when concrete)."""
  if jnp.ndim(p) != 0:
    raise ValueError(f"`{name}` must be a scalar, got shape {jnp.shape(p)}.")
  if not is_concrete(p):
    return
  value = float(np.asarray(p))
  if not 0.0 <= value <= 1.0:
    raise ValueError(f"`{name}` must be in [0, 1], got {value!r}.")


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> None:
  if value not in choices:
    raise ValueError(f"`{name}` must be one of {choices}, got {value!r}.")


def check_batch_size(batch_size: Any) -> None:
  if not isinstance(batch_size, int | np.integer) or batch_size < 1:
    raise ValueError(f"`batch_size` must be a positive Python int, got {batch_size!r}.")


def check_labels(labels: Any) -> int:
  """Checks soft labels `[B, C]` and returns B."""
  shape, dtype = jnp.shape(labels), jnp.result_type(labels)
  if len(shape) != 2 or not jnp.issubdtype(dtype, jnp.floating):
    raise ValueError(
      f"`labels` must be a 2-D floating array [batch, num_classes] (one-hot or soft; see "
      f"mixjax.one_hot), got shape {shape} and dtype {dtype}."
    )
  return shape[0]


def check_inputs(inputs: Any, batch_size: int, name: str = "inputs") -> None:
  """Checks that every leaf of `inputs` is floating with leading dimension `batch_size`."""
  leaves = jax.tree_util.tree_leaves_with_path(inputs)
  if not leaves:
    raise ValueError(f"`{name}` must hold at least one array, got {inputs!r}.")
  for path, leaf in leaves:
    where = f"`{name}`" + jax.tree_util.keystr(path)
    dtype, shape = jnp.result_type(leaf), jnp.shape(leaf)
    if not jnp.issubdtype(dtype, jnp.floating):
      raise TypeError(
        f"{where} must be floating to be mixed, got dtype {dtype}; convert it first, "
        f"e.g. `x.astype(jnp.float32) / 255`."
      )
    if len(shape) < 1 or shape[0] != batch_size:
      raise ValueError(
        f"{where} has shape {shape}, but its leading (batch) dimension must equal the "
        f"batch size of `labels`, {batch_size}."
      )


def check_images(images: Any, name: str = "images") -> tuple[int, int, int]:
  """Checks a floating `[B, H, W, C]` image batch and returns (B, H, W)."""
  shape = jnp.shape(images)
  if len(shape) != 4:
    raise ValueError(
      f"`{name}` must be rank 4 [batch, height, width, channels], got shape {shape}."
    )
  dtype = jnp.result_type(images)
  if not jnp.issubdtype(dtype, jnp.floating):
    raise TypeError(
      f"`{name}` must be floating to be mixed, got dtype {dtype}; convert it first, "
      f"e.g. `x.astype(jnp.float32) / 255`."
    )
  return shape[0], shape[1], shape[2]
