"""Integer class labels to (optionally smoothed) one-hot targets."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from mixjax import _checks


def one_hot(
  labels: jax.typing.ArrayLike, num_classes: int, *, label_smoothing: float = 0.0
) -> jax.Array:
  """One-hot targets, ready to be mixed.

  Args:
    labels: integer class indices, shape `[B]` (any shape `[...]` works; a Python list
      is taken as an array).
    num_classes: number of classes C, a positive Python int.
    label_smoothing: ε in [0, 1): the target becomes `(1 - ε)·one_hot + ε / C`.

  Returns:
    float32 `[..., C]` whose rows sum to 1.

  Raises:
    TypeError: `labels` is not an integer array.
    ValueError: `num_classes` is not positive, `label_smoothing` is outside [0, 1), or a
      concrete label lies outside [0, num_classes).

  Example:
    >>> mixjax.one_hot(jnp.array([0, 2]), 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
  """
  if isinstance(labels, list | tuple):
    labels = np.asarray(labels)  # A Python list of class indices, e.g. [0, 1, 2].
  _checks.check_array_like(labels, "labels")
  dtype = jnp.result_type(labels)
  if not jnp.issubdtype(dtype, jnp.integer):
    raise TypeError(f"`labels` must be integer class indices, got dtype {dtype}.")
  _checks.check_positive_int(num_classes, "num_classes")
  _checks.check_number(
    label_smoothing, "label_smoothing", low=0.0, high=1.0, high_open=True, expected="in [0, 1)"
  )
  if _checks.is_concrete(labels):
    values = np.asarray(labels)
    if values.size and (values.min() < 0 or values.max() >= num_classes):
      bad = values[(values < 0) | (values >= num_classes)]
      raise ValueError(
        f"`labels` must lie in [0, {num_classes}), got out-of-range values {bad[:5].tolist()}."
      )
  targets = jax.nn.one_hot(labels, num_classes, dtype=jnp.float32)
  eps = jnp.asarray(label_smoothing, jnp.float32)
  targets = targets * (1.0 - eps) + eps / num_classes
  ok = _checks.valid(label_smoothing, low=0.0, high=1.0, high_open=True)
  return targets if ok is True else jnp.where(ok, targets, jnp.nan)  # NaN if traced ε is bad.
