"""The `Source` interface, its types and the checks of the arguments every source takes.

Conventions (shared by every source in `mixjax.data`):

* A *global batch* of `global_batch_size` examples is split across `process_count`
  processes; each process yields its contiguous share of
  `local_batch = global_batch_size // process_count` examples, so together the
  processes see every selected example of an epoch exactly once.
* Training epochs drop the remainder: `steps_per_epoch = num_train // global_batch_size`.
  The order of an epoch is a deterministic function of `(seed, epoch)` only, so a run
  resumed at `(epoch, start_step)` sees exactly the batches an uninterrupted run would.
* Evaluation covers the whole test split exactly once; the last global batch is padded
  with zeros (label 0) and `mask` is False on the padding.
* Inputs are float32, normalised per channel (images, `[..., C]`) or per feature
  (tables, `[D]`) with the mean and standard deviation of the training split
  (`mixjax.data.stats`).

The in-memory implementation is `mixjax.data.arrays.ArraySource`.
"""

from __future__ import annotations

import abc
import dataclasses
import importlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from mixjax import _checks
from mixjax import _moved

Batch = dict[str, np.ndarray]


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
  """What a model and a trainer need to know about a dataset.

  Attributes:
    name: the dataset name, as passed to `mixjax.data.load_source`.
    num_classes: number of classes; labels are in `[0, num_classes)`.
    input_shape: shape of one example: `(H, W, C)` for images, `(D,)` for tables.
    num_train: number of examples in the whole (global) training split.
    num_test: number of examples in the whole (global) test split.
  """

  name: str
  num_classes: int
  input_shape: tuple[int, ...]
  num_train: int
  num_test: int


def check_int(
  value: Any,
  name: str,
  *,
  low: int | None = None,
  high: int | None = None,
  expected: str | None = None,
) -> int:
  """`mixjax._checks.check_int`, with the expectation worded by the caller.

  Args:
    value: the argument.
    name: its name, for the message.
    low: the smallest allowed value, or None.
    high: the largest allowed value, or None.
    expected: what the message says was expected (e.g. "an int in [0, 2**32)"); None
      keeps `_checks.check_int`'s wording.

  Returns:
    `value` as a Python int.

  Raises:
    ValueError: `value` is not an int (bools are not) in `[low, high]`.
  """
  try:
    return _checks.check_int(value, name, low=low, high=high)
  except ValueError:
    if expected is None:
      raise
    raise ValueError(f"`{name}` must be {expected}, got {value!r}.") from None


def check_seed(seed: Any, name: str = "seed") -> int:
  """Checks that `seed` is an int in [0, 2**32) and returns it as a Python int."""
  return check_int(seed, name, low=0, high=2**32 - 1, expected="an int in [0, 2**32)")


def check_process(process_index: Any, process_count: Any) -> tuple[int, int]:
  """Checks `0 <= process_index < process_count` and returns both as Python ints."""
  process_count = _checks.check_positive_int(process_count, "process_count")
  expected = f"an int in [0, process_count={process_count})"
  process_index = check_int(
    process_index, "process_index", low=0, high=process_count - 1, expected=expected
  )
  return process_index, process_count


def check_fraction(
  value: Any, name: str, *, low_open: bool = False, high_open: bool = False
) -> float:
  """Checks that `value` is a real number in [0, 1] (optionally open at either end)."""
  interval = ("(" if low_open else "[") + "0, 1" + (")" if high_open else "]")
  expected = f"a number in {interval}"
  # `check_number` also takes bools, strings of digits and arrays: a host argument may not.
  if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
    raise ValueError(f"`{name}` must be {expected}, got {value!r}.")
  _checks.check_number(
    value, name, low=0.0, high=1.0, low_open=low_open, high_open=high_open, expected=expected
  )
  return float(value)


def check_source_args(
  seed: Any, label_noise: Any, process_index: Any, process_count: Any
) -> tuple[int, float, int, int]:
  """Checks the arguments every loader takes, before it reads anything.

  Returns:
    `(seed, label_noise, process_index, process_count)` as Python numbers.
  """
  seed = check_seed(seed)
  label_noise = check_fraction(label_noise, "label_noise")
  process_index, process_count = check_process(process_index, process_count)
  return seed, label_noise, process_index, process_count


def check_global_batch_size(
  global_batch_size: Any, process_count: int, max_size: int | None = None
) -> int:
  """Checks a global batch size and returns the per-process (local) batch size.

  Args:
    global_batch_size: the number of examples in one batch across all processes.
    process_count: the number of processes sharing each batch; must divide it.
    max_size: if given, the largest allowed value (the size of the training split).

  Returns:
    `global_batch_size // process_count`.
  """
  global_batch_size = _checks.check_positive_int(global_batch_size, "global_batch_size")
  if global_batch_size % process_count:
    raise ValueError(
      f"`global_batch_size` must be divisible by process_count={process_count}, "
      f"got {global_batch_size}."
    )
  if max_size is not None and global_batch_size > max_size:
    raise ValueError(
      f"`global_batch_size` must be at most the number of training examples, {max_size}, "
      f"got {global_batch_size}."
    )
  return global_batch_size // process_count


def check_step(value: Any, name: str, limit: int) -> int:
  """Checks that `value` is an int in [0, limit]."""
  return check_int(value, name, low=0, high=limit, expected=f"an int in [0, {limit}]")


class Source(abc.ABC):
  """A dataset that yields this process's share of global batches as NumPy arrays.

  Attributes:
    info: static facts about the dataset.
    corrupted_indices: int64 `[K]`, sorted indices into the global training split whose
      label was replaced by label noise; empty if none.
    mean: float32 `[C]` (or `[D]`), the training-split mean used for normalisation.
    std: float32 `[C]` (or `[D]`), the training-split standard deviation.
    process_index: this process, in `[0, process_count)`.
    process_count: the number of processes sharing each global batch.
  """

  info: DatasetInfo
  corrupted_indices: np.ndarray
  mean: np.ndarray
  std: np.ndarray
  process_index: int
  process_count: int

  def steps_per_epoch(self, global_batch_size: int) -> int:
    """Number of training batches per epoch, `num_train // global_batch_size`."""
    check_global_batch_size(global_batch_size, self.process_count, self.info.num_train)
    return self.info.num_train // global_batch_size

  @abc.abstractmethod
  def train_batches(
    self, *, epoch: int, global_batch_size: int, start_step: int = 0
  ) -> Iterator[Batch]:
    """Yields this process's share of each training batch of epoch `epoch`.

    Args:
      epoch: the epoch, an int >= 0; the order is a function of (seed, epoch) only.
      global_batch_size: examples per batch across all processes; must be divisible by
        `process_count` and at most `num_train`.
      start_step: the first step to yield, to resume mid-epoch.

    Yields:
      Exactly `steps_per_epoch(global_batch_size) - start_step` dicts with `image`:
      float32 `[b, *input_shape]` and `label`: int32 `[b]`, where
      `b = global_batch_size // process_count`.
    """

  @abc.abstractmethod
  def eval_batches(self, *, global_batch_size: int) -> Iterator[Batch]:
    """Yields this process's share of the whole test split, in a fixed order.

    Args:
      global_batch_size: examples per batch across all processes; must be divisible by
        `process_count`.

    Yields:
      Dicts with `image`: float32 `[b, *input_shape]`, `label`: int32 `[b]` and
      `mask`: bool `[b]` (False on padding), `b = global_batch_size // process_count`.
      Every process yields the same number of batches; across processes and batches
      every test example appears exactly once with mask True.
    """


# Names that lived here before the in-memory source and the statistics got their own
# modules: they keep working, with a DeprecationWarning, for one release.
_MOVED_NAMES = {
  "ArraySource": "mixjax.data.arrays",
  "epoch_permutation": "mixjax.data.arrays",
  "channel_stats": "mixjax.data.stats",
  "channel_stats_from_chunks": "mixjax.data.stats",
}


def __getattr__(name: str) -> Any:
  if name not in _MOVED_NAMES:
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
  new = _MOVED_NAMES[name]
  warnings.warn(
    f"`{__name__}.{name}` moved to `{new}`; import it from there "
    f"(the old path will be removed in mixjax {_moved.REMOVED_IN}).",
    DeprecationWarning,
    stacklevel=2,
  )
  return getattr(importlib.import_module(new), name)
