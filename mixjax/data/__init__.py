"""Host-side input pipelines: datasets as sources of per-process NumPy batches.

`load_source(name, seed=...)` returns a `Source` (see `mixjax.data.base` for the
conventions). scikit-learn datasets are always available offline; tfds datasets must be
prepared beforehand (`tfds build NAME`), nothing is downloaded. TensorFlow is imported
only when a tfds dataset is loaded.
"""

from __future__ import annotations

from mixjax import _extras

_extras.require("train", "mixjax.data", "sklearn")

from mixjax.data.base import ArraySource
from mixjax.data.base import Batch
from mixjax.data.base import DatasetInfo
from mixjax.data.base import Source
from mixjax.data.noise import corrupt_labels
from mixjax.data.sklearn_sources import NAMES as SKLEARN_DATASETS
from mixjax.data.sklearn_sources import load_sklearn_source

# tfds datasets known to work; any other tfds image-classification dataset (with 'image'
# and 'label' features) is tried too.
TFDS_DATASETS = (
  "cifar10",
  "cifar100",
  "mnist",
  "fashion_mnist",
  "svhn_cropped",
  "imagenet2012",
)
# tfds audio datasets, loaded as log-mel spectrogram images (`mixjax.data.speech`).
AUDIO_DATASETS = ("speech_commands",)
# Your own images: `data_dir` holds one sub-folder per class (`mixjax.data.folder_source`).
FOLDER_DATASET = "folder"
DATASETS = SKLEARN_DATASETS + TFDS_DATASETS + AUDIO_DATASETS + (FOLDER_DATASET,)


def load_source(
  name: str,
  *,
  seed: int,
  label_noise: float = 0.0,
  process_index: int = 0,
  process_count: int = 1,
  data_dir: str | None = None,
  test_fraction: float | None = None,
  image_size: int | None = None,
) -> Source:
  """Loads dataset `name` as this process's source of batches.

  Args:
    name: one of `DATASETS`; any other name is tried as a tfds image-classification
      dataset with 'image' and 'label' features. `speech_commands` yields log-mel
      spectrograms `[98, 40, 1]` (`mixjax.data.speech`).
    seed: an int in [0, 2**32); fixes the train/test split (scikit-learn), the label
      noise and the order of every epoch.
    label_noise: fraction of training labels redrawn uniformly from all classes, in
      [0, 1] (`corrupt_labels`); the affected indices are `Source.corrupted_indices`.
    process_index: this process, in `[0, process_count)` (`jax.process_index()`).
    process_count: the number of processes sharing each global batch
      (`jax.process_count()`).
    data_dir: the tfds data directory (tfds datasets only); None uses tfds's default.
      For "folder", the image folder (required).
    test_fraction: held-out fraction in (0, 1) for scikit-learn datasets; None uses
      the default (0.25 for digits, 0.3 for the tables). Must be None for tfds datasets,
      which have their own test split. For "folder": the held-out fraction when the
      folder has no test/ tree (None = 0.2).
    image_size: "folder" only: the side images are resized to (None = 32).

  Returns:
    A `Source`.
  """
  if not isinstance(name, str) or not name:
    raise ValueError(f"`name` must be a dataset name, one of {DATASETS}, got {name!r}.")
  if name == FOLDER_DATASET:
    from mixjax.data import folder_source  # Imported lazily: TensorFlow is slow to import.

    return folder_source.load_folder_source(
      data_dir,
      seed=seed,
      image_size=image_size,
      test_fraction=test_fraction,
      label_noise=label_noise,
      process_index=process_index,
      process_count=process_count,
    )
  if image_size is not None:
    raise ValueError(
      f"`image_size` applies only to dataset {FOLDER_DATASET!r}, got {image_size!r} for {name!r}."
    )
  if name in SKLEARN_DATASETS:
    if data_dir is not None:
      raise ValueError(f"`data_dir` applies only to tfds datasets, got {data_dir!r} for {name!r}.")
    return load_sklearn_source(
      name,
      seed=seed,
      label_noise=label_noise,
      process_index=process_index,
      process_count=process_count,
      test_fraction=test_fraction,
    )
  if test_fraction is not None:
    raise ValueError(
      f"`test_fraction` applies only to the scikit-learn datasets {SKLEARN_DATASETS}, got "
      f"{test_fraction!r} for {name!r}, which has its own test split."
    )
  if name in AUDIO_DATASETS:
    from mixjax.data import speech  # Imported lazily: TensorFlow is slow to import.

    return speech.load_speech_source(
      seed=seed,
      label_noise=label_noise,
      process_index=process_index,
      process_count=process_count,
      data_dir=data_dir,
    )
  from mixjax.data import tfds_source  # Imported lazily: TensorFlow is slow to import.

  return tfds_source.load_tfds_source(
    name,
    seed=seed,
    label_noise=label_noise,
    process_index=process_index,
    process_count=process_count,
    data_dir=data_dir,
  )


__all__ = (
  "AUDIO_DATASETS",
  "DATASETS",
  "FOLDER_DATASET",
  "SKLEARN_DATASETS",
  "TFDS_DATASETS",
  "ArraySource",
  "Batch",
  "DatasetInfo",
  "Source",
  "corrupt_labels",
  "load_sklearn_source",
  "load_source",
)
