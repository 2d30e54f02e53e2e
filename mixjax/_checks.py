"""Argument checks shared by the ops, one copy each.

Every check runs at trace time on shapes and dtypes, and on values only when they are
concrete (Python numbers, NumPy arrays, committed jax.Arrays); a traced value is passed
through unchecked so that changing it never forces a recompile. Each public op calls them
once, at its boundary; the private implementations the ops share check nothing.
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


def is_int(value: Any, *, low: int | None = None, high: int | None = None) -> bool:
  """True for a Python or NumPy int (not a bool) in `[low, high]`."""
  ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
  return ok and (low is None or value >= low) and (high is None or value <= high)


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
  if not is_int(value, low=low, high=high):
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


def _within(
  number: float, low: float | None, high: float | None, low_open: bool, high_open: bool
) -> bool:
  """True when `number` is finite and in the interval."""
  ok = math.isfinite(number)
  ok = ok and (low is None or (number > low if low_open else number >= low))
  return ok and (high is None or (number < high if high_open else number <= high))


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
  if not _within(number, low, high, low_open, high_open):
    expected = expected or f"a finite number in {_interval(low, high, low_open, high_open)}"
    raise ValueError(f"`{name}` must be {expected}, got {number!r}.")
  return value


def _pair(value: Any, name: str) -> tuple[Any, Any]:
  """Splits a `(low, high)` pair: a tuple, a list or a shape-`[2]` array (may be traced)."""
  if isinstance(value, str) or (isinstance(value, tuple | list) and len(value) != 2):
    raise ValueError(f"`{name}` must be a pair (low, high), got {value!r}.")
  if not isinstance(value, tuple | list) and jnp.shape(value) != (2,):
    raise ValueError(f"`{name}` must be a pair (low, high), got shape {jnp.shape(value)}.")
  for v in (value[0], value[1]):
    if jnp.ndim(v) != 0:
      raise ValueError(f"`{name}` must hold two scalars, got an element of shape {jnp.shape(v)}.")
  return value[0], value[1]


def check_interval(
  value: Any,
  name: str,
  *,
  low: float | None = None,
  high: float | None = None,
  low_open: bool = False,
  high_open: bool = False,
  expected: str,
) -> tuple[Any, Any]:
  """Checks a `(lo, hi)` pair of finite scalars with `lo <= hi`, both in a range.

  The values are checked only when both are concrete; traced ones pass.

  Args:
    value: the argument, a tuple, a list or a shape-`[2]` array.
    name: its name, for the message.
    low: the lower bound of both ends, or None.
    high: the upper bound of both ends, or None.
    low_open: exclude `low` itself.
    high_open: exclude `high` itself.
    expected: what the message says was expected.

  Returns:
    `(lo, hi)`, unchanged.

  Raises:
    ValueError: `value` is not a pair of scalars, or is concrete and out of range.
  """
  lo, hi = _pair(value, name)
  if is_concrete(lo) and is_concrete(hi):
    values = float(np.asarray(lo)), float(np.asarray(hi))
    if not (
      values[0] <= values[1] and all(_within(v, low, high, low_open, high_open) for v in values)
    ):
      raise ValueError(f"`{name}` must be {expected}, got {values}.")
  return lo, hi


def check_alpha(alpha: Any, name: str = "alpha") -> None:
  """Checks that a Beta concentration is a finite, non-negative scalar."""
  check_number(alpha, name, low=0.0, expected="finite and >= 0")


def check_probability(p: Any, name: str) -> None:
  """Checks that `p` is a scalar in [0, 1] (when concrete)."""
  check_number(p, name, low=0.0, high=1.0, expected="in [0, 1]")


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> None:
  """Checks that `value` is one of `choices`."""
  if value not in choices:
    raise ValueError(f"`{name}` must be one of {choices}, got {value!r}.")


def check_batch_size(batch_size: Any) -> None:
  """Checks that `batch_size` is a positive int."""
  check_positive_int(batch_size, "batch_size")


def lam_shape(batch_size: int, mode: str) -> tuple[int, ...]:
  """The shape of one per-batch (`mode="batch"`, `()`) or per-example (`(B,)`) draw."""
  check_choice(mode, "mode", MODES)
  return () if mode == "batch" else (batch_size,)


def check_image_size(image_size: Any) -> tuple[int, int]:
  """Checks `(H, W)`, two positive Python ints, and returns them as ints."""
  ok = isinstance(image_size, tuple | list) and len(image_size) == 2
  if not (ok and all(is_int(s, low=1) for s in image_size)):
    raise ValueError(
      f"`image_size` must be (height, width), two positive ints, got {image_size!r}."
    )
  return int(image_size[0]), int(image_size[1])


def check_labels(labels: Any) -> int:
  """Checks soft labels `[B, C]` and returns B."""
  shape, dtype = jnp.shape(labels), jnp.result_type(labels)
  if len(shape) != 2 or not jnp.issubdtype(dtype, jnp.floating):
    raise ValueError(
      f"`labels` must be a 2-D floating array [batch, num_classes] (one-hot or soft; see "
      f"mixjax.one_hot), got shape {shape} and dtype {dtype}."
    )
  return shape[0]


def _check_floating(dtype: Any, where: str) -> None:
  if not jnp.issubdtype(dtype, jnp.floating):
    raise TypeError(
      f"{where} must be floating to be mixed, got dtype {dtype}; convert it first, "
      f"e.g. `x.astype(jnp.float32) / 255`."
    )


def check_inputs(inputs: Any, batch_size: int, name: str = "inputs") -> None:
  """Checks that every leaf of `inputs` is floating with leading dimension `batch_size`."""
  leaves = jax.tree_util.tree_leaves_with_path(inputs)
  if not leaves:
    raise ValueError(f"`{name}` must hold at least one array, got {inputs!r}.")
  for path, leaf in leaves:
    where = f"`{name}`" + jax.tree_util.keystr(path)
    shape = jnp.shape(leaf)
    _check_floating(jnp.result_type(leaf), where)
    if len(shape) < 1 or shape[0] != batch_size:
      raise ValueError(
        f"{where} has shape {shape}, but its leading (batch) dimension must equal the "
        f"batch size of `labels`, {batch_size}."
      )


def check_rank4(images: Any, name: str = "images") -> tuple[int, int, int, int]:
  """Checks a `[B, H, W, C]` batch of any dtype and returns its shape."""
  shape = jnp.shape(images)
  if len(shape) != 4:
    raise ValueError(
      f"`{name}` must be rank 4 [batch, height, width, channels], got shape {shape}."
    )
  return shape


def check_images(images: Any, name: str = "images") -> tuple[int, int, int, int]:
  """Checks a floating `[B, H, W, C]` image batch and returns its shape."""
  shape = check_rank4(images, name)
  _check_floating(jnp.result_type(images), f"`{name}`")
  return shape


def check_array(value: Any, name: str, shape: tuple[int, ...], kind: str, note: str = "") -> None:
  """Checks an array of exactly `shape` whose dtype is of `kind`, "integer" or "boolean"."""
  actual, dtype = jnp.shape(value), jnp.result_type(value)
  ok = jnp.issubdtype(dtype, jnp.integer) if kind == "integer" else dtype == jnp.bool_
  if actual != shape or not ok:
    raise ValueError(
      f"`{name}` must be {'an' if kind[0] in 'aeiou' else 'a'} {kind} array of shape "
      f"{shape}{note}, got shape {actual} and dtype {dtype}."
    )


def check_int_rows(value: Any, name: str, batch_size: int) -> jax.Array:
  """Checks an integer `[4]` or `[B, 4]` parameter array and returns it as int32."""
  dtype, shape = jnp.result_type(value), jnp.shape(value)
  if not jnp.issubdtype(dtype, jnp.integer):
    raise TypeError(f"`{name}` must be an integer array, got dtype {dtype}.")
  if shape not in ((4,), (batch_size, 4)):
    raise ValueError(
      f"`{name}` must have shape (4,) or ({batch_size}, 4) to match the images, got {shape}."
    )
  return jnp.asarray(value, jnp.int32)


def _check_real(value: Any, name: str) -> None:
  try:
    dtype = jnp.result_type(value)
  except TypeError as e:
    raise TypeError(f"`{name}` must be a number or an array, got {value!r}.") from e
  if not (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer)):
    raise TypeError(f"`{name}` must be a real number or array, got dtype {dtype}.")


def check_fill(fill: Any, name: str, num_channels: int) -> None:
  """Checks a constant fill: a real scalar or a per-channel vector `[C]` (may be traced)."""
  if isinstance(fill, str):
    raise ValueError(f"`{name}` must be a number or a [{num_channels}] vector, got {fill!r}.")
  _check_real(fill, name)
  if jnp.shape(fill) not in ((), (num_channels,)):
    raise ValueError(
      f"`{name}` must be a scalar or a per-channel vector of shape ({num_channels},), "
      f"got shape {jnp.shape(fill)}."
    )


def check_masking(
  images: Any, params: Any, params_name: str, fill: Any, fill_name: str
) -> tuple[jax.Array, jax.Array]:
  """The checks of a deterministic masking op (erasing, GridMask).

  Args:
    images: floating `[B, H, W, C]`.
    params: the mask parameters, integer `[4]` or `[B, 4]`.
    params_name: their name, for the messages.
    fill: what masked pixels become: anything that broadcasts to the images' shape.
    fill_name: its name, for the messages.

  Returns:
    `(images, params)` as a jax.Array and an int32 jax.Array.
  """
  batch_size = check_images(images)[0]
  images = jnp.asarray(images)
  params = check_int_rows(params, params_name, batch_size)
  _check_real(fill, fill_name)
  shape = jnp.shape(fill)
  try:
    ok = jnp.broadcast_shapes(shape, images.shape) == images.shape
  except ValueError:
    ok = False
  if not ok:
    raise ValueError(
      f"`{fill_name}` must broadcast to the images' shape {images.shape} (a scalar, a [C] "
      f"vector or a full-size array), got shape {shape}."
    )
  return images, params
