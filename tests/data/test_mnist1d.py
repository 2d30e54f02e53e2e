"""MNIST-1D (`mixjax.data.mnist1d`): generated offline, deterministic, cached."""

from __future__ import annotations

import os
import socket

import numpy as np
import pytest

from mixjax import data
from mixjax.data import mnist1d


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
  """A cache folder holding both datasets, generated once for the module."""
  folder = str(tmp_path_factory.mktemp("mnist1d_cache"))
  for name in mnist1d.NAMES:
    mnist1d.load_arrays(name, folder)
  return folder


def test_split_sizes_shapes_and_balance(cache):
  source = data.load_source("mnist1d", seed=0, data_dir=cache)
  assert source.info == data.DatasetInfo(
    name="mnist1d", num_classes=10, input_shape=(40, 1), num_train=4000, num_test=1000
  )
  batch = next(source.train_batches(epoch=0, global_batch_size=100))
  assert batch["image"].shape == (100, 40, 1) and batch["image"].dtype == np.float32
  arrays = mnist1d.load_arrays("mnist1d", cache)
  assert np.bincount(arrays["y"], minlength=10).min() > 350  # ~400 per class.
  assert abs(float(arrays["x"].mean())) < 0.05 and abs(float(arrays["x"].std()) - 1) < 0.05


def test_generation_is_offline_deterministic_and_keeps_the_global_rng(cache, monkeypatch):
  def no_network(*args, **kwargs):
    raise AssertionError("MNIST-1D generation opened a network connection")

  monkeypatch.setattr(socket.socket, "connect", no_network)
  np.random.seed(123)  # noqa: NPY002 (the global generator is what is checked)
  expected_draw = np.random.random(3)  # noqa: NPY002
  np.random.seed(123)  # noqa: NPY002 (the global generator is what is checked)
  again = mnist1d.generate("mnist1d")
  np.testing.assert_array_equal(np.random.random(3), expected_draw)  # noqa: NPY002
  cached = mnist1d.load_arrays("mnist1d", cache)
  for key in ("x", "y", "x_test", "y_test"):
    np.testing.assert_array_equal(again[key], cached[key])


def test_a_second_load_reads_the_cache(cache, monkeypatch):
  def regenerate(name):
    raise AssertionError("regenerated although cached")

  monkeypatch.setattr(mnist1d, "generate", regenerate)
  assert mnist1d.load_arrays("mnist1d_shuffle", cache)["x"].shape == (4000, 40)
  assert sorted(os.listdir(cache)) == ["mnist1d_shuffle_v1.npz", "mnist1d_v1.npz"]  # No temp.


def test_shuffle_permutes_the_positions_of_every_signal_alike(cache):
  plain = mnist1d.load_arrays("mnist1d", cache)
  shuffled = mnist1d.load_arrays("mnist1d_shuffle", cache)
  np.testing.assert_array_equal(plain["y"], shuffled["y"])
  # Each shuffled position is one original position, the same for every example.
  distance = np.abs(shuffled["x"].T[:, None, :] - plain["x"].T[None, :, :]).max(-1)
  permutation = distance.argmin(1)
  assert distance.min(1).max() < 1e-4
  assert sorted(permutation) == list(range(40)) and (permutation != np.arange(40)).sum() > 30
  np.testing.assert_allclose(shuffled["x_test"], plain["x_test"][:, permutation], atol=1e-4)


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
  def fail(*args, **kwargs):
    raise OSError("disk full")

  monkeypatch.setattr(mnist1d, "generate", lambda name: {"x": np.zeros(2)})
  monkeypatch.setattr(np, "savez", fail)
  with pytest.raises(OSError, match="disk full"):
    mnist1d.load_arrays("mnist1d", str(tmp_path))
  assert os.listdir(tmp_path) == []


def test_unknown_name():
  with pytest.raises(ValueError, match=r"name.*mnist1d.*got 'mnist2d'"):
    mnist1d.load_arrays("mnist2d")
  with pytest.raises(ValueError, match="test_fraction.*scikit-learn"):
    data.load_source("mnist1d", seed=0, test_fraction=0.2)
