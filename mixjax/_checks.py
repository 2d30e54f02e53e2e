"""Argument checks shared by the ops, one copy each.

Every check runs at trace time on shapes and dtypes, and on values only when they are
concrete (Python numbers, NumPy arrays, committed jax.Arrays); a traced value is passed
through unchecked so that changing it never forces a recompile. Each public op calls them
once, at its boundary; the private implementations the ops share check nothing.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

MODES = ("batch", "elem")
_FLOAT32_MAX = float(np.finfo(np.float32).max)
PAIRINGS = ("permute", "flip", "roll")


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
  _check_numeric(value, name)
  if jnp.ndim(value) != 0:
    raise ValueError(f"`{name}` must be a scalar, got shape {jnp.shape(value)}.")
  if not is_concrete(value):
    return value
  number = float(np.asarray(value))
  # Values are used in float32: one that overflows it (1e39) is not finite there.
  finite32 = not math.isfinite(number) or abs(number) <= _FLOAT32_MAX
  if not (finite32 and _within(number, low, high, low_open, high_open)):
    expected = expected or f"a finite number in {_interval(low, high, low_open, high_open)}"
    raise ValueError(f"`{name}` must be {expected}, got {number!r}.")
  return value


def _check_numeric(value: Any, name: str) -> None:
  """Refuses what is not a real number or array: None, str, bool, dicts, complex values."""
  if value is None or isinstance(value, str | bytes | bool | np.bool_ | dict):
    raise ValueError(f"`{name}` must be a number, got {value!r}.")
  try:
    dtype = jnp.result_type(value)
  except (TypeError, ValueError) as e:
    raise ValueError(f"`{name}` must be a number, got {value!r}.") from e
  if not (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer)):
    raise ValueError(f"`{name}` must be a real number, got {value!r} of dtype {dtype}.")


def valid(
  value: Any,
  *,
  low: float | None = None,
  high: float | None = None,
  low_open: bool = False,
  high_open: bool = False,
) -> Any:
  """Whether a scalar that passed :func:`check_number` is finite and in range.

  True (a Python bool) for a concrete value, which the check has already seen; a traced
  boolean for a traced one. The ops use it to make their outputs NaN for a traced
  hyperparameter out of range, so that it never silently changes the method.
  """
  if is_concrete(value):
    return True
  x = jnp.asarray(value, jnp.float32)
  ok = jnp.isfinite(x)
  if low is not None:
    ok &= (x > low) if low_open else (x >= low)
  if high is not None:
    ok &= (x < high) if high_open else (x <= high)
  return ok


def valid_interval(
  pair: tuple[Any, Any],
  *,
  low: float | None = None,
  high: float | None = None,
  low_open: bool = False,
  high_open: bool = False,
  strict: bool = False,
) -> Any:
  """:func:`valid` of a pair that passed :func:`check_interval`: True when both ends are
  concrete, else a traced boolean, both ends valid and `lo <= hi` (`<` if `strict`)."""
  lo, hi = pair
  if is_concrete(lo) and is_concrete(hi):
    return True
  lo, hi = jnp.asarray(lo, jnp.float32), jnp.asarray(hi, jnp.float32)
  ends = [valid(v, low=low, high=high, low_open=low_open, high_open=high_open) for v in (lo, hi)]
  return all_valid(*ends, (lo < hi) if strict else (lo <= hi))


def all_valid(*conditions: Any) -> Any:
  """True when every condition is the Python True (all concrete), else their traced and."""
  traced = [c for c in conditions if c is not True]
  return True if not traced else functools.reduce(jnp.logical_and, traced)


def check_shape(shape: Any, name: str, *, max_rank: int | None = None, low: int = 0) -> None:
  """Checks a draw's shape: a tuple of ints >= `low`, of at most `max_rank` axes."""
  ok = isinstance(shape, tuple) and all(is_int(n, low=low) for n in shape)
  if not ok or (max_rank is not None and len(shape) > max_rank):
    rank = "" if max_rank is None else f" of at most {max_rank} axes"
    raise ValueError(f"`{name}` must be a tuple of ints >= {low}{rank}, got {shape!r}.")


def check_lam(lam: Any, name: str = "lam") -> None:
  """Checks a blend weight λ for the public samplers: `[]` or `[B]` real; when concrete,
  every value finite and in [0, 1]."""
  _check_numeric(lam, name)
  if jnp.ndim(lam) > 1:
    raise ValueError(f"`{name}` must be a scalar or [B], got shape {jnp.shape(lam)}.")
  if is_concrete(lam):
    values = np.asarray(lam, np.float64)
    if not np.all((values >= 0.0) & (values <= 1.0)):
      raise ValueError(f"`{name}` must be in [0, 1], got {_short(values.tolist())}.")


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
  strict: bool = False,
  expected: str,
) -> tuple[Any, Any]:
  """Checks a `(lo, hi)` pair of finite scalars with `lo <= hi` (`lo < hi` if `strict`),
  both in a range.

  The values are checked only when both are concrete; traced ones pass.

  Args:
    value: the argument, a tuple, a list or a shape-`[2]` array.
    name: its name, for the message.
    low: the lower bound of both ends, or None.
    high: the upper bound of both ends, or None.
    low_open: exclude `low` itself.
    high_open: exclude `high` itself.
    strict: require `lo < hi`.
    expected: what the message says was expected.

  Returns:
    `(lo, hi)`, unchanged.

  Raises:
    ValueError: `value` is not a pair of scalars, or is concrete and out of range.
  """
  lo, hi = _pair(value, name)
  for end in (lo, hi):
    _check_numeric(end, name)
  if is_concrete(lo) and is_concrete(hi):
    values = float(np.asarray(lo)), float(np.asarray(hi))
    ordered = values[0] < values[1] if strict else values[0] <= values[1]
    if not (ordered and all(_within(v, low, high, low_open, high_open) for v in values)):
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


def check_image_size(image_size: Any, ndim: int | None = 2) -> tuple[int, ...]:
  """Checks the spatial size, `(H, W)` or any tuple of positive Python ints.

  Args:
    image_size: the sizes of the spatial axes, e.g. `(L,)`, `(H, W)` or `(T, H, W)`.
    ndim: the required number of spatial axes (2: `(H, W)`), or None for any number >= 1.

  Returns:
    The sizes as a tuple of ints.
  """
  ok = isinstance(image_size, tuple | list) and len(image_size) >= 1
  ok = ok and (ndim is None or len(image_size) == ndim)
  if not (ok and all(is_int(s, low=1) for s in image_size)):
    what = "(height, width), two positive ints" if ndim == 2 else None
    what = what or "the spatial shape, a tuple of positive ints (e.g. (32, 32) or (16,))"
    raise ValueError(f"`image_size` must be {what}, got {image_size!r}.")
  return tuple(int(s) for s in image_size)


def _check_not_empty(shape: tuple[int, ...], name: str) -> None:
  if shape and shape[0] == 0:
    raise ValueError(f"`{name}` is an empty batch (shape {shape}); pass at least one example.")


def check_labels(labels: Any) -> int:
  """Checks soft labels `[B, C]` and returns B."""
  check_array_like(labels, "labels")
  shape, dtype = jnp.shape(labels), jnp.result_type(labels)
  if len(shape) != 2 or not jnp.issubdtype(dtype, jnp.floating):
    raise ValueError(
      f"`labels` must be a 2-D floating array [batch, num_classes] (one-hot or soft; see "
      f"mixjax.one_hot), got shape {shape} and dtype {dtype}."
    )
  _check_not_empty(shape, "labels")
  return shape[0]


def check_blend_labels(labels: Any) -> int:
  """Checks labels that mixup blends: floating `[B, K]` or dense `[B, ..., K]`; returns B."""
  check_array_like(labels, "labels")
  shape, dtype = jnp.shape(labels), jnp.result_type(labels)
  if len(shape) >= 2 and jnp.issubdtype(dtype, jnp.integer):
    raise ValueError(
      f"`labels` of dtype {dtype} and shape {shape} look like integer class maps: a blend "
      f"needs one-hot maps, e.g. `mixjax.one_hot(labels, num_classes)` (or use cutmix, which "
      f"pastes integer maps exactly)."
    )
  if len(shape) < 2 or not jnp.issubdtype(dtype, jnp.floating):
    raise ValueError(
      f"`labels` must be floating [batch, num_classes] or dense [batch, ..., num_classes] "
      f"(one-hot or soft; see mixjax.one_hot), got shape {shape} and dtype {dtype}."
    )
  _check_not_empty(shape, "labels")
  return shape[0]


def check_dense_labels(labels: Any, spatial: tuple[int, ...], integer_maps: bool = True) -> str:
  """Checks the labels of a pasting op against the inputs' spatial shape.

  Args:
    labels: floating `[B, K]`, dense soft maps `[B, *spatial, K]` or (if `integer_maps`)
      integer class maps `[B, *spatial]`; B is checked by :func:`check_inputs`.
    spatial: the inputs' spatial shape.
    integer_maps: whether integer maps are accepted.

  Returns:
    `"class"`, `"dense"` or `"map"`.
  """
  check_array_like(labels, "labels")
  shape, dtype = jnp.shape(labels), jnp.result_type(labels)
  _check_not_empty(shape, "labels")
  floating = jnp.issubdtype(dtype, jnp.floating)
  if floating and len(shape) == 2:
    return "class"
  if floating and len(shape) == len(spatial) + 2 and shape[1:-1] == spatial:
    return "dense"
  if integer_maps and jnp.issubdtype(dtype, jnp.integer) and shape[1:] == spatial:
    return "map"
  maps = f", or integer class maps [B, {', '.join(map(str, spatial))}]" if integer_maps else ""
  raise ValueError(
    f"`labels` must be floating [B, K], dense soft maps [B, {', '.join(map(str, spatial))}, K]"
    f"{maps} (the spatial shape of the inputs), got shape {shape} and dtype {dtype}."
  )


def check_array_like(value: Any, name: str) -> None:
  """Refuses a dict, a list of arrays, None or a string where one array is expected."""
  if isinstance(value, dict | str | bytes) or value is None:
    kind = type(value).__name__
    raise ValueError(f"`{name}` must be an array, got a {kind}: {_short(value)}.")
  try:
    jnp.result_type(value)
  except (TypeError, ValueError) as e:
    raise ValueError(f"`{name}` must be an array, got {_short(value)}.") from e


@functools.cache
def _raw_key_shape(impl: str) -> tuple[int, ...]:
  """The shape of one raw (uint32) key of the default implementation `impl`."""
  del impl  # The cache key: the shape below follows jax's default implementation.
  return jax.eval_shape(lambda: jax.random.key_data(jax.random.key(0))).shape


def check_key(key: Any, name: str = "key") -> None:
  """Refuses anything but one PRNG key: a typed key of shape `()` (`jax.random.key`) or
  one raw uint32 key of the default implementation (`jax.random.PRNGKey`, shape `(2,)`)."""
  dtype, shape = getattr(key, "dtype", None), getattr(key, "shape", None)
  if dtype is not None and jnp.issubdtype(dtype, jax.dtypes.prng_key):
    if shape != ():
      raise ValueError(
        f"`{name}` must be a single PRNG key, got a key array of shape {shape}; to use "
        f"several keys, `jax.vmap` the call over them."
      )
    return
  one = _raw_key_shape(jax.config.jax_default_prng_impl)  # type: ignore[attr-defined]
  if dtype == np.uint32 and shape == one:
    return
  if dtype == np.uint32 and shape is not None and shape[-len(one) :] == one:
    raise ValueError(
      f"`{name}` must be a single PRNG key, got raw keys of shape {shape} (one is {one}); "
      f"to use several keys, `jax.vmap` the call over them."
    )
  if dtype is not None:
    got = f"an array of shape {shape} and dtype {dtype}"
  else:
    got = "None" if key is None else f"{_short(key)} (a Python {type(key).__name__})"
  raise TypeError(
    f"`{name}` must be a PRNG key, e.g. `jax.random.key(seed)` (or one raw uint32 key of "
    f"shape {one}), got {got}."
  )


def _short(value: Any) -> str:
  text = repr(value)
  return text if len(text) <= 80 else text[:77] + "..."


def check_channels_last(shape: tuple[int, ...], name: str) -> None:
  """Refuses a batch that looks channels-first `[B, C, *spatial]` (rank 4 or more).

  The rule: the second axis is 1, 3 or 4 and every later axis is larger than 4, as in
  `[B, 3, 32, 32]` or `[B, 3, 16, 112, 112]`. Rank-3 `[B, L, C]` batches are never
  refused: short sequences with many features are common.
  """
  if len(shape) >= 4 and shape[1] in (1, 3, 4) and min(shape[2:]) > 4:
    order = ", ".join(["B", *[f"d{i}" for i in range(len(shape) - 2)], "C"])
    raise ValueError(
      f"`{name}` has shape {shape}, which looks channels-first [B, C, ...]; mixjax takes "
      f"channels-last [{order}]: transpose first, e.g. `jnp.moveaxis({name}, 1, -1)`."
    )


def _check_floating(dtype: Any, where: str, purpose: str = " to be mixed") -> None:
  if not jnp.issubdtype(dtype, jnp.floating):
    raise TypeError(
      f"{where} must be floating{purpose}, got dtype {dtype}; convert it first, "
      f"e.g. `x.astype(jnp.float32) / 255`."
    )


def check_inputs(inputs: Any, batch_size: int, name: str = "inputs") -> None:
  """Checks that every leaf of `inputs` is floating with leading dimension `batch_size`."""
  leaves = jax.tree_util.tree_leaves_with_path(inputs)
  if not leaves:
    raise ValueError(f"`{name}` must hold at least one array, got {inputs!r}.")
  for path, leaf in leaves:
    where = f"`{name}`" + jax.tree_util.keystr(path)
    check_array_like(leaf, where.strip("`"))
    shape = jnp.shape(leaf)
    _check_floating(jnp.result_type(leaf), where)
    if len(shape) < 1 or shape[0] != batch_size:
      raise ValueError(
        f"{where} has shape {shape}, but its leading (batch) dimension must equal the "
        f"batch size of `labels`, {batch_size}."
      )


def check_rank4(images: Any, name: str = "images") -> tuple[int, int, int, int]:
  """Checks a channels-last `[B, H, W, C]` batch of any dtype and returns its shape."""
  check_array_like(images, name)
  shape = jnp.shape(images)
  if len(shape) != 4:
    raise ValueError(
      f"`{name}` must be rank 4 [batch, height, width, channels], got shape {shape}."
    )
  _check_not_empty(shape, name)
  check_channels_last(shape, name)
  return shape


def check_spatial_inputs(inputs: Any, labels_batch: int | None, name: str) -> tuple[int, ...]:
  """Checks the inputs of a pasting op: floating leaves sharing `[B, *spatial]`.

  Every leaf is channels-last `[B, *spatial, C_leaf]` with at least one spatial axis; the
  leaves may differ in C only.

  Returns:
    The shared `(B, *spatial)`.
  """
  leaves = jax.tree_util.tree_leaves_with_path(inputs)
  if not leaves:
    raise ValueError(f"`{name}` must hold at least one array, got {_short(inputs)}.")
  first: tuple[int, ...] | None = None
  for path, leaf in leaves:
    where = name + jax.tree_util.keystr(path)
    check_array_like(leaf, where)
    shape = jnp.shape(leaf)
    if len(shape) < 3:
      raise ValueError(
        f"`{where}` must be [batch, *spatial, channels] with at least one spatial axis "
        f"([B, L, C], [B, H, W, C], [B, T, H, W, C]), got shape {shape}."
      )
    _check_not_empty(shape, where)
    check_channels_last(shape, where)
    if first is not None and shape[:-1] != first:
      raise ValueError(
        f"`{where}` has shape {shape}, but every leaf of `{name}` must share "
        f"[batch, *spatial] = {first} (they are cut with the same box)."
      )
    first = shape[:-1]
  assert first is not None  # `leaves` is not empty: the loop ran at least once.
  check_inputs(inputs, first[0] if labels_batch is None else labels_batch, name)
  return first


def check_images(images: Any, name: str = "images") -> tuple[int, int, int, int]:
  """Checks a floating `[B, H, W, C]` image batch (erased or masked) and returns its shape."""
  shape = check_rank4(images, name)
  _check_floating(jnp.result_type(images), f"`{name}`", purpose="")
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


def check_field(
  value: Any, name: str, shapes: list[tuple[int, ...]], *, kind: Any = None, against: str
) -> None:
  """Checks that `value` is an array with one of `shapes` (to match `against`), of dtype
  `kind` (`jnp.integer` or `jnp.bool_`) when given."""
  check_array_like(value, name)
  dtype, shape = jnp.result_type(value), jnp.shape(value)
  if kind is not None and not jnp.issubdtype(dtype, kind):
    what = "a boolean" if kind is jnp.bool_ else "an integer"
    raise TypeError(f"`{name}` must be {what} array, got dtype {dtype}.")
  if shape not in shapes:
    wanted = " or ".join(map(str, shapes))
    raise ValueError(f"`{name}` must have shape {wanted} to match {against}, got {shape}.")


def check_int_rows(value: Any, name: str, batch_size: int) -> jax.Array:
  """Checks an integer `[4]` or `[B, 4]` parameter array and returns it as int32."""
  check_field(value, name, [(4,), (batch_size, 4)], kind=jnp.integer, against="the images")
  return jnp.asarray(value, jnp.int32)


def _check_real(value: Any, name: str) -> None:
  try:
    dtype = jnp.result_type(value)
  except TypeError as e:
    raise TypeError(f"`{name}` must be a number or an array, got {value!r}.") from e
  if not (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer)):
    raise TypeError(f"`{name}` must be a real number or array, got dtype {dtype}.")


def _listed_fill(fill: Any, name: str) -> Any:
  """A fill given as a list or tuple (`[0.0, 0.0, 0.0]`) as a NumPy array, to be checked."""
  if not isinstance(fill, list | tuple):
    return fill
  try:
    array = np.asarray(fill)
  except ValueError as e:
    raise ValueError(f"`{name}` must be a number or a vector, got {_short(fill)}.") from e
  if array.dtype == object or array.dtype == bool:
    raise TypeError(f"`{name}` must be a real number or array, got {_short(fill)}.")
  return array


def check_fill(fill: Any, name: str, num_channels: int) -> None:
  """Checks a constant fill: a real scalar or a per-channel vector `[C]` (may be traced)."""
  if isinstance(fill, str):
    raise ValueError(f"`{name}` must be a number or a [{num_channels}] vector, got {fill!r}.")
  fill = _listed_fill(fill, name)
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
  fill = _listed_fill(fill, fill_name)
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
