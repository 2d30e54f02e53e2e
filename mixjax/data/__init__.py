"""Host-side input pipelines: datasets as sources of per-process NumPy batches.

`load_source(name, seed=...)` returns a `Source` (see `mixjax.data.base` for the
conventions). scikit-learn datasets are always available offline; tfds datasets must be
prepared beforehand (`tfds build NAME`), nothing is downloaded. TensorFlow is imported
only when a tfds dataset or an image folder is loaded.

Modules, one job each:

* `base`: the `Source` interface, `DatasetInfo`, `Batch` and the argument checks.
* `arrays`: `ArraySource`, the in-memory source every small dataset becomes.
* `stats`: normalisation statistics; `noise`: label noise; `splits`: held-out splits.
* One loader each: `sklearn_datasets`, `mnist1d`, `tfds_images`, `image_folder`, `speech`; a
  dataset kind is one loader module plus one line in `_LOADERS` below.
"""

from __future__ import annotations

from mixjax import _extras

_extras.require("train", "mixjax.data", "sklearn")

import dataclasses
import importlib
from typing import Any

from mixjax.data.arrays import ArraySource
from mixjax.data.base import Batch
from mixjax.data.base import DatasetInfo
from mixjax.data.base import Source
from mixjax.data.noise import corrupt_labels
from mixjax.data.sklearn_datasets import NAMES as SKLEARN_DATASETS
from mixjax.data.sklearn_datasets import load_sklearn_source

# MNIST-1D, generated offline by the `mnist1d` package and cached (`mixjax.data.mnist1d`).
MNIST1D_DATASETS = ("mnist1d", "mnist1d_shuffle")
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
# Your own images: `data_dir` holds one sub-folder per class (`mixjax.data.image_folder`).
FOLDER_DATASET = "folder"


@dataclasses.dataclass(frozen=True)
class _Loader:
  """How `load_source` loads one kind of dataset.

  Attributes:
    function: "module:function", imported on first use (TensorFlow is slow to import).
      It takes the dataset name first (unless `takes_name` is False), then `seed`,
      `label_noise`, `process_index`, `process_count` and `options` as keywords.
    options: the optional arguments of `load_source` it takes; the others must be None.
    takes_name: whether `function` takes the dataset name.
  """

  function: str
  options: tuple[str, ...] = ()
  takes_name: bool = True

  def load(self, name: str, **kwargs: Any) -> Source:
    module, function = self.function.split(":")
    load = getattr(importlib.import_module(module), function)
    return load(name, **kwargs) if self.takes_name else load(**kwargs)


_SKLEARN = _Loader("mixjax.data.sklearn_datasets:load_sklearn_source", ("test_fraction",))
_TFDS = _Loader("mixjax.data.tfds_images:load_tfds_source", ("data_dir",))
# Every dataset name, in the order of `DATASETS`; any other name is tried with `_TFDS`.
_LOADERS = {
  **dict.fromkeys(SKLEARN_DATASETS, _SKLEARN),
  **dict.fromkeys(
    MNIST1D_DATASETS, _Loader("mixjax.data.mnist1d:load_mnist1d_source", ("data_dir",))
  ),
  **dict.fromkeys(TFDS_DATASETS, _TFDS),
  "speech_commands": _Loader(
    "mixjax.data.speech:load_speech_source", ("data_dir",), takes_name=False
  ),
  FOLDER_DATASET: _Loader(
    "mixjax.data.image_folder:load_folder_source",
    ("data_dir", "test_fraction", "image_size"),
    takes_name=False,
  ),
  "npz": _Loader("mixjax.data.npz_arrays:load_npz_source", ("data_dir",), takes_name=False),
}
DATASETS = tuple(_LOADERS)
# Where each optional argument of `load_source` applies, for the error elsewhere.
_APPLIES_ONLY_TO = {
  "image_size": f"dataset {FOLDER_DATASET!r}",
  "data_dir": "tfds datasets and MNIST-1D (its cache folder)",
  "test_fraction": f"the scikit-learn datasets {SKLEARN_DATASETS}",
}


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
      For MNIST-1D, the cache folder of the generated arrays (None = ~/.cache/mixjax).
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
  loader = _LOADERS.get(name, _TFDS)
  options = {"image_size": image_size, "data_dir": data_dir, "test_fraction": test_fraction}
  for option, value in options.items():
    if value is not None and option not in loader.options:
      own_split = ", which has its own test split" if option == "test_fraction" else ""
      raise ValueError(
        f"`{option}` applies only to {_APPLIES_ONLY_TO[option]}, got {value!r} for "
        f"{name!r}{own_split}."
      )
  return loader.load(
    name,
    seed=seed,
    label_noise=label_noise,
    process_index=process_index,
    process_count=process_count,
    **{option: options[option] for option in loader.options},
  )


__all__ = (
  "AUDIO_DATASETS",
  "DATASETS",
  "FOLDER_DATASET",
  "MNIST1D_DATASETS",
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
