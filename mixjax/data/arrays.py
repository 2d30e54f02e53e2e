"""The in-memory source: splits held as NumPy arrays, batched by index in a seeded order.

Every process holds the whole dataset and takes its share of each global batch by index
slicing, so the global batch order does not depend on `process_count`; the order of an
epoch is `epoch_permutation(num_train, seed=seed, epoch=epoch)`. The scikit-learn
datasets, the small tfds datasets, image folders and speech spectrograms are all
`ArraySource`s (conventions: `mixjax.data.base`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np

from mixjax.data import base
from mixjax.data import noise
from mixjax.data import stats
from mixjax.data.base import Batch
from mixjax.data.base import DatasetInfo


def epoch_permutation(num_examples: int, *, seed: int, epoch: int) -> np.ndarray:
  """The order of epoch `epoch`: a permutation of `range(num_examples)`.

  A function of `(seed, epoch)` only, the same on every process.

  Returns:
    int64 `[num_examples]`.
  """
  return np.random.default_rng([seed, epoch]).permutation(num_examples)


class ArraySource(base.Source):
  """A source whose splits are NumPy arrays in memory (scikit-learn, small tfds, folders).

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
    self.process_index, self.process_count = base.check_process(process_index, process_count)
    self._seed = base.check_seed(seed)
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
    self.mean, self.std = stats.channel_stats(train_inputs)
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
    epoch = base.check_step(epoch, "epoch", 2**32 - 1)
    start_step = base.check_step(start_step, "start_step", steps)
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
    local_batch = base.check_global_batch_size(global_batch_size, self.process_count)
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
