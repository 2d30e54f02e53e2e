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


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
  left = "-inf" if low is None else f"{low:g}"
  right = "inf" if high is None else f"{high:g}"
  return (
    ("(" if low_open or low is None else "[")
    + f"{left}, {right}"
    + (")" if high_open or high is None else "]")
  )


def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
  """Checks a Python or NumPy int (not a bool) in `[low, high]` and returns it as an int.

  Args:
    value: the argument.
    name: its name, for the message (e.g. "batch_size" or "config.num_epochs").
    low: the smallest allowed value, or None.
    high: the largest allowed value, or None.

  Raises:
    ValueError: naming `name`, the value and the expected range.
  """
  ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
  ok = ok and (low is None or value >= low) and (high is None or value <= high)
  if not ok:
    if low == 1 and high is None:
      expected = "a positive int"
    elif low == 0 and high is None:
      expected = "an int >= 0"
    else:
      expected = f"an int in {_interval(low, high, False, False)}"
    raise ValueError(f"`{name}` must be {expected}, got {value!r}.")
  return int(value)


def check_positive_int(value: Any, name: str) -> int:
  """Checks a positive Python or NumPy int (not a bool) and returns it as an int."""
  return check_int(value, name, low=1)


def check_number(
  value: Any,
  name: str,
  *,
  low: float | None = None,
  high: float | None = None,
  low_open: bool = False,
  high_open: bool = False,
  expected: str | None = None,
) -> Any:
  """Checks a finite real scalar in a range; traced values pass unchecked.

  Shapes are checked at trace time; the value only when it is concrete (a Python
  number, a NumPy or committed jax scalar), so a traced hyperparameter never forces a
  recompile.

  Args:
    value: the argument.
    name: its name, for the message.
    low: the lower bound, or None for none.
    high: the upper bound, or None for none.
    low_open: exclude `low` itself.
    high_open: exclude `high` itself.
    expected: what the message says was expected; default "a finite number in [low, high]".

  Returns:
    `value`, unchanged.

  Raises:
    ValueError: `value` is not a scalar, or is concrete and not finite or out of range.
  """
  if jnp.ndim(value) != 0:
    raise ValueError(f"`{name}` must be a scalar, got shape {jnp.shape(value)}.")
  if not is_concrete(value):
    return value
  number = float(np.asarray(value))
  ok = math.isfinite(number)
  ok = ok and (low is None or (number > low if low_open else number >= low))
  ok = ok and (high is None or (number < high if high_open else number <= high))
  if not ok:
    expected = expected or f"a finite number in {_interval(low, high, low_open, high_open)}"
    raise ValueError(f"`{name}` must be {expected}, got {number!r}.")
  return value


def check_alpha(alpha: Any, name: str = "alpha") -> None:
  """Checks that a Beta concentration is a finite, non-negative scalar."""
  check_number(alpha, name, low=0.0, expected="finite and >= 0")


def check_probability(p: Any, name: str) -> None:
  """Checks that `p` is a scalar in [0, 1] (when concrete)."""
  check_number(p, name, low=0.0, high=1.0, expected="in [0, 1]")


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> None:
  if value not in choices:
    raise ValueError(f"`{name}` must be one of {choices}, got {value!r}.")


def check_batch_size(batch_size: Any) -> None:
  check_positive_int(batch_size, "batch_size")


def lam_shape(batch_size: int, mode: str) -> tuple[int, ...]:
  """The shape of one per-batch (`mode="batch"`, `()`) or per-example (`(B,)`) draw."""
  check_choice(mode, "mode", MODES)
  return () if mode == "batch" else (batch_size,)


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
