"""Tests for `mixjax.data.load_source`: the dataset names and the argument checks."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

from mixjax import data
from mixjax.data import arrays
from mixjax.data import base
from mixjax.data import noise
from mixjax.data import sklearn_datasets


@pytest.mark.parametrize(
  "kwargs, match",
  [
    (dict(name="mnist_typo", test_fraction=0.2), "test_fraction.*scikit-learn"),
    (dict(name="", seed=0), "name.*dataset name"),
    (dict(name=3), "name.*dataset name"),
    (dict(label_noise=1.5), r"label_noise.*\[0, 1\], got 1.5"),
    (dict(label_noise=-0.1), "label_noise"),
    (dict(label_noise=float("nan")), "label_noise"),
    (dict(test_fraction=0.0), r"test_fraction.*\(0, 1\), got 0.0"),
    (dict(test_fraction=1.0), "test_fraction"),
    (dict(test_fraction=0.001), "test_fraction.*stratification"),
    (dict(seed=-1), r"seed.*\[0, 2\*\*32\), got -1"),
    (dict(seed=1.5), "seed"),
    (dict(process_index=2, process_count=2), r"process_index.*\[0, process_count=2\), got 2"),
    (dict(process_count=0), "process_count.*positive int, got 0"),
    (dict(data_dir="/tmp"), "data_dir.*only to tfds"),
  ],
)
def test_load_source_errors(kwargs, match):
  kwargs = {"name": "digits", "seed": 0, **kwargs}
  with pytest.raises(ValueError, match=match):
    data.load_source(kwargs.pop("name"), **kwargs)


def test_datasets_lists_every_supported_name():
  assert data.DATASETS[:4] == ("digits", "iris", "wine", "breast_cancer")
  assert {"cifar10", "cifar100", "mnist", "fashion_mnist", "svhn_cropped", "imagenet2012"} <= set(
    data.DATASETS
  )


def test_datasets_are_the_registry_in_order():
  assert data.DATASETS == (
    data.SKLEARN_DATASETS
    + data.MNIST1D_DATASETS
    + data.TFDS_DATASETS
    + data.AUDIO_DATASETS
    + (data.FOLDER_DATASET, "npz")
  )
  assert data.MNIST1D_DATASETS == ("mnist1d", "mnist1d_shuffle")
  assert data.SKLEARN_DATASETS == ("digits", "iris", "wine", "breast_cancer")


@pytest.mark.parametrize(
  "name, kwargs, match",
  [
    ("digits", dict(image_size=16), r"`image_size` applies only to dataset 'folder', got 16"),
    ("cifar10", dict(image_size=16), r"`image_size` applies only to dataset 'folder'"),
    (
      "iris",
      dict(data_dir="/x"),
      r"`data_dir` applies only to tfds datasets and MNIST-1D.*, got '/x' for 'iris'",
    ),
    ("cifar10", dict(test_fraction=0.2), r"`test_fraction`.*got 0.2 for 'cifar10'.*own test"),
    ("speech_commands", dict(test_fraction=0.2), r"test_fraction.*'speech_commands'"),
    ("speech_commands", dict(image_size=8), "image_size"),
  ],
)
def test_an_option_is_refused_where_it_does_not_apply(name, kwargs, match):
  # Refused before the loader is imported or anything is read.
  with pytest.raises(ValueError, match=match):
    data.load_source(name, seed=0, **kwargs)


def test_scikit_learn_datasets_load_without_tensorflow():
  code = (
    "import sys; from mixjax import data; data.load_source('digits', seed=0); "
    "print(sorted(m for m in ('tensorflow', 'tensorflow_datasets') if m in sys.modules))"
  )
  root = str(pathlib.Path(__file__).parents[2])
  env = {**os.environ, "PYTHONPATH": root}
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
  assert result.returncode == 0, result.stderr
  assert result.stdout.strip() == "[]"


def test_public_names():
  assert data.ArraySource is arrays.ArraySource
  assert (data.Source, data.DatasetInfo, data.Batch) == (base.Source, base.DatasetInfo, base.Batch)
  assert data.corrupt_labels is noise.corrupt_labels
  assert data.load_sklearn_source is sklearn_datasets.load_sklearn_source
  assert set(data.__all__) <= set(dir(data))
