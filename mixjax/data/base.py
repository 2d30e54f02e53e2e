"""The `Source` interface, its in-memory implementation and shared argument checks.

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
  (tables, `[D]`) with the mean and standard deviation of the training split.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any

import numpy as np

Batch = dict[str, np.ndarray]

# Chunk size (in examples) for the statistics; bounds the float64 temporaries.
_STATS_CHUNK = 4096


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


def check_seed(seed: Any, name: str = "seed") -> int:
  """Checks that `seed` is an int in [0, 2**32) and returns it as a Python int."""
  if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**32:
    raise ValueError(f"`{name}` must be an int in [0, 2**32), got {seed!r}.")
  return int(seed)


def check_process(process_index: Any, process_count: Any) -> tuple[int, int]:
  """Checks `0 <= process_index < process_count` and returns both as Python ints."""
  if (
    isinstance(process_count, bool)
    or not isinstance(process_count, int | np.integer)
    or (process_count < 1)
  ):
    raise ValueError(f"`process_count` must be a positive int, got {process_count!r}.")
  if (
    isinstance(process_index, bool)
    or not isinstance(process_index, int | np.integer)
    or not (0 <= process_index < process_count)
  ):
    raise ValueError(
      f"`process_index` must be an int in [0, process_count={process_count}), "
      f"got {process_index!r}."
    )
  return int(process_index), int(process_count)


def check_fraction(
  value: Any, name: str, *, low_open: bool = False, high_open: bool = False
) -> float:
  """Checks that `value` is a real number in [0, 1] (optionally open at either end)."""
  ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
  value_f = float(value) if ok else math.nan
  ok = ok and math.isfinite(value_f)
  ok = ok and (value_f > 0 if low_open else value_f >= 0)
  ok = ok and (value_f < 1 if high_open else value_f <= 1)
  if not ok:
    interval = ("(" if low_open else "[") + "0, 1" + (")" if high_open else "]")
    raise ValueError(f"`{name}` must be a number in {interval}, got {value!r}.")
  return value_f


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
  if (
    isinstance(global_batch_size, bool)
    or not isinstance(global_batch_size, int | np.integer)
    or (global_batch_size < 1)
  ):
    raise ValueError(f"`global_batch_size` must be a positive int, got {global_batch_size!r}.")
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
  return int(global_batch_size) // process_count


def check_step(value: Any, name: str, limit: int) -> int:
  """Checks that `value` is an int in [0, limit]."""
  if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 0 <= value <= limit:
    raise ValueError(f"`{name}` must be an int in [0, {limit}], got {value!r}.")
  return int(value)


def epoch_permutation(num_examples: int, *, seed: int, epoch: int) -> np.ndarray:
  """The order of epoch `epoch`: a permutation of `range(num_examples)`.

  A function of `(seed, epoch)` only, the same on every process.

  Returns:
    int64 `[num_examples]`.
  """
  return np.random.default_rng([seed, epoch]).permutation(num_examples)


def channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Mean and standard deviation of the last axis of `x` over all other axes.

  Works over chunks of examples, so a uint8 dataset is never copied whole to floating
  point.

  Args:
    x: `[N, ..., C]`, any real dtype.

  Returns:
    `(mean, std)`, each float32 `[C]`; see `channel_stats_from_chunks`.
  """
  return channel_stats_from_chunks(
    x[start : start + _STATS_CHUNK] for start in range(0, x.shape[0], _STATS_CHUNK)
  )


def channel_stats_from_chunks(chunks: Iterable[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
  """Mean and standard deviation of the last axis over all other axes of all chunks.

  A standard deviation of zero (a constant channel) is replaced by one, so that
  normalising never divides by zero.

  Args:
    chunks: arrays `[n_i, ..., C]` with the same C, any real dtype.

  Returns:
    `(mean, std)`, each float32 `[C]`.
  """
  total = total_sq = None
  count = 0
  for chunk in chunks:
    # float32 holds uint8 pixels (and their squares) exactly; the sums are float64.
    flat = np.asarray(chunk).reshape(-1, chunk.shape[-1]).astype(np.float32)
    if total is None:
      total = np.zeros(flat.shape[1], np.float64)
      total_sq = np.zeros(flat.shape[1], np.float64)
    total += flat.sum(axis=0, dtype=np.float64)
    total_sq += np.einsum("nc,nc->c", flat, flat, dtype=np.float64)
    count += flat.shape[0]
  if not count:
    raise ValueError("Cannot compute normalisation statistics of an empty training split.")
  mean = total / count
  std = np.sqrt(np.maximum(total_sq / count - np.square(mean), 0.0))
  std = np.where(std > 0, std, 1.0)
  return mean.astype(np.float32), std.astype(np.float32)


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


class ArraySource(Source):
  """A source whose splits are NumPy arrays in memory (scikit-learn, small tfds).

  Every process holds the whole dataset; per-process shares of each global batch are
  taken by index slicing, so the global batch order does not depend on `process_count`.

  Attributes:
    class_names: the name of each label, or None when the dataset has none.
  """

  def __init__(
    self,
    *,
    info: DatasetInfo,
    train_inputs: np.ndarray,
    train_labels: np.ndarray,
    test_inputs: np.ndarray,
    test_labels: np.ndarray,
    seed: int,
    process_index: int = 0,
    process_count: int = 1,
    corrupted_indices: np.ndarray | None = None,
    class_names: tuple[str, ...] | None = None,
  ):
    """Builds the source and computes the normalisation statistics.

    Args:
      info: static facts; `num_train`, `num_test` and `input_shape` must match the arrays.
      train_inputs: `[num_train, *input_shape]`, raw (e.g. uint8 pixels); normalised per
        batch with the statistics of this array.
      train_labels: int `[num_train]`, possibly already corrupted by label noise.
      test_inputs: `[num_test, *input_shape]`, same dtype and scale as `train_inputs`.
      test_labels: int `[num_test]`.
      seed: the seed of the epoch orders.
      process_index: this process, in `[0, process_count)`.
      process_count: the number of processes sharing each global batch.
      corrupted_indices: int64 indices of noisy training labels; None means none.
      class_names: the name of each of the `info.num_classes` labels, or None.
    """
    self.process_index, self.process_count = check_process(process_index, process_count)
    self._seed = check_seed(seed)
    for name, inputs, labels, size in (
      ("train", train_inputs, train_labels, info.num_train),
      ("test", test_inputs, test_labels, info.num_test),
    ):
      if inputs.shape != (size, *info.input_shape) or labels.shape != (size,):
        raise ValueError(
          f"The {name} split has inputs {inputs.shape} and labels {labels.shape}, but "
          f"info promises {size} examples of shape {info.input_shape}."
        )
    self.info = info
    self._train_inputs = train_inputs
    self._train_labels = np.asarray(train_labels, np.int32)
    self._test_inputs = test_inputs
    self._test_labels = np.asarray(test_labels, np.int32)
    self.mean, self.std = channel_stats(train_inputs)
    self._inv_std = (1.0 / self.std).astype(np.float32)
    if corrupted_indices is None:
      corrupted_indices = np.zeros((0,), np.int64)
    self.corrupted_indices = np.asarray(corrupted_indices, np.int64)
    if class_names is not None and len(class_names) != info.num_classes:
      raise ValueError(
        f"`class_names` must name the {info.num_classes} classes, got {class_names!r}."
      )
    self.class_names = None if class_names is None else tuple(class_names)

  @property
  def train_labels(self) -> np.ndarray:
    """int32 `[num_train]`: the training labels (after label noise, if any)."""
    return self._train_labels

  @classmethod
  def from_splits(
    cls,
    name: str,
    *,
    num_classes: int,
    train_inputs: np.ndarray,
    train_labels: np.ndarray,
    test_inputs: np.ndarray,
    test_labels: np.ndarray,
    seed: int,
    label_noise: float = 0.0,
    process_index: int = 0,
    process_count: int = 1,
    **kwargs: Any,
  ) -> ArraySource:
    """Builds a source from in-memory splits, corrupting `label_noise` of the train labels.

    Args:
      name: the dataset's name.
      num_classes: the number of classes.
      train_inputs: `[num_train, *input_shape]`, raw.
      train_labels: int `[num_train]`, clean; label noise is applied here (by `seed`).
      test_inputs: `[num_test, *input_shape]`.
      test_labels: int `[num_test]`.
      seed: seeds the label noise and the epoch orders.
      label_noise: fraction of training labels redrawn uniformly (`corrupt_labels`).
      process_index: this process.
      process_count: the number of processes.
      **kwargs: further arguments of the class (e.g. `class_names`).

    Returns:
      A source of class `cls`.
    """
    from mixjax.data import noise  # Imported here: noise imports this module.

    train_labels, corrupted = noise.corrupt_labels(
      train_labels, fraction=label_noise, num_classes=num_classes, seed=seed
    )
    info = DatasetInfo(
      name=name,
      num_classes=num_classes,
      input_shape=tuple(train_inputs.shape[1:]),
      num_train=len(train_labels),
      num_test=len(test_labels),
    )
    return cls(
      info=info,
      train_inputs=train_inputs,
      train_labels=train_labels,
      test_inputs=test_inputs,
      test_labels=test_labels,
      seed=seed,
      process_index=process_index,
      process_count=process_count,
      corrupted_indices=corrupted,
      **kwargs,
    )

  @property
  def test_labels(self) -> np.ndarray:
    """int32 `[num_test]`: the test labels."""
    return self._test_labels

  def subset(
    self,
    train_indices: np.ndarray,
    test_indices: np.ndarray | None = None,
    *,
    process_index: int | None = None,
    process_count: int | None = None,
  ) -> ArraySource:
    """A source on part of this training split, e.g. one fold of cross-validation.

    Its training split is `train[train_indices]`, normalised with its own statistics; its
    test split is `train[test_indices]` (a held-out fold), or this source's test split
    when `test_indices` is None. Noisy labels stay noisy (`corrupted_indices` are
    renumbered); the seed, name and class names are kept.

    Args:
      train_indices: distinct int indices into this source's training split, not empty.
      test_indices: int indices into this source's training split, or None.
      process_index: as in `__init__`; None keeps this source's.
      process_count: as in `__init__`; None keeps this source's.

    Returns:
      A new `ArraySource`.
    """
    train_indices = self._check_indices(train_indices, "train_indices")
    if test_indices is None:
      test_inputs, test_labels = self._test_inputs, self._test_labels
    else:
      test_indices = self._check_indices(test_indices, "test_indices")
      test_inputs = self._train_inputs[test_indices]
      test_labels = self._train_labels[test_indices]
    info = dataclasses.replace(self.info, num_train=len(train_indices), num_test=len(test_labels))
    return ArraySource(
      info=info,
      train_inputs=self._train_inputs[train_indices],
      train_labels=self._train_labels[train_indices],
      test_inputs=test_inputs,
      test_labels=test_labels,
      seed=self._seed,
      process_index=self.process_index if process_index is None else process_index,
      process_count=self.process_count if process_count is None else process_count,
      corrupted_indices=np.flatnonzero(np.isin(train_indices, self.corrupted_indices)),
      class_names=self.class_names,
    )

  def _check_indices(self, indices: np.ndarray, name: str) -> np.ndarray:
    """Checks distinct int indices into the training split; returns them as int64."""
    indices = np.asarray(indices)
    num_train = self.info.num_train
    if indices.ndim != 1 or not indices.size or not np.issubdtype(indices.dtype, np.integer):
      raise ValueError(f"`{name}` must be a non-empty 1-D int array, got {indices!r}.")
    if indices.min() < 0 or indices.max() >= num_train or len(np.unique(indices)) != len(indices):
      raise ValueError(
        f"`{name}` must be distinct indices in [0, {num_train}) into the training split, "
        f"got {indices!r}."
      )
    return indices.astype(np.int64)

  def normalize(self, inputs: np.ndarray) -> np.ndarray:
    """Raw inputs `[b, *input_shape]` -> float32, normalised with training statistics."""
    return (inputs.astype(np.float32) - self.mean) * self._inv_std

  def _local_slice(self, local_batch: int) -> slice:
    start = self.process_index * local_batch
    return slice(start, start + local_batch)

  def train_batches(
    self, *, epoch: int, global_batch_size: int, start_step: int = 0
  ) -> Iterator[Batch]:
    steps = self.steps_per_epoch(global_batch_size)
    local_batch = global_batch_size // self.process_count
    epoch = check_step(epoch, "epoch", 2**32 - 1)
    start_step = check_step(start_step, "start_step", steps)
    order = epoch_permutation(self.info.num_train, seed=self._seed, epoch=epoch)
    local = self._local_slice(local_batch)
    return self._iterate_train(order, steps, start_step, global_batch_size, local)

  def _iterate_train(
    self, order: np.ndarray, steps: int, start_step: int, global_batch_size: int, local: slice
  ) -> Iterator[Batch]:
    for step in range(start_step, steps):
      indices = order[step * global_batch_size : (step + 1) * global_batch_size][local]
      yield {
        "image": self.normalize(self._train_inputs[indices]),
        "label": self._train_labels[indices],
      }

  def eval_batches(self, *, global_batch_size: int) -> Iterator[Batch]:
    local_batch = check_global_batch_size(global_batch_size, self.process_count)
    return self._iterate_eval(global_batch_size, local_batch)

  def _iterate_eval(self, global_batch_size: int, local_batch: int) -> Iterator[Batch]:
    num_test = self.info.num_test
    num_batches = -(-num_test // global_batch_size)
    for step in range(num_batches):
      start = step * global_batch_size + self.process_index * local_batch
      indices = np.arange(start, start + local_batch)
      mask = indices < num_test
      indices = np.where(mask, indices, 0)
      image = self.normalize(self._test_inputs[indices])
      image[~mask] = 0.0
      yield {
        "image": image,
        "label": np.where(mask, self._test_labels[indices], 0).astype(np.int32),
        "mask": mask,
      }
