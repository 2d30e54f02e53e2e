"""The npz source: the user's own arrays of any rank, and a clear error for each bad file."""

from __future__ import annotations

import numpy as np
import pytest

from mixjax import data
from mixjax.data import npz_arrays


def _arrays(shape=(6, 2), n_train=40, n_test=10, classes=3, seed=0):
  rng = np.random.default_rng(seed)
  return {
    "x_train": rng.normal(size=(n_train, *shape)).astype(np.float32),
    "y_train": np.arange(n_train) % classes,
    "x_test": rng.normal(size=(n_test, *shape)).astype(np.float32),
    "y_test": np.arange(n_test) % classes,
  }


def _save(tmp_path, **arrays) -> str:
  path = str(tmp_path / "data.npz")
  np.savez(path, **arrays)
  return path


@pytest.mark.parametrize("shape", [(5,), (6, 2), (4, 4, 3)])
def test_inputs_of_any_rank_become_a_source(tmp_path, shape):
  arrays = _arrays(shape)
  source = data.load_source("npz", seed=0, data_dir=_save(tmp_path, **arrays))
  assert source.info == data.DatasetInfo("npz", 3, shape, 40, 10)
  batch = next(source.eval_batches(global_batch_size=16))
  assert batch["image"].shape == (16, *shape) and batch["image"].dtype == np.float32
  np.testing.assert_array_equal(batch["label"][:10], arrays["y_test"])
  # Normalised with the training statistics, per last-axis channel.
  expected = (arrays["x_test"] - source.mean) / source.std
  np.testing.assert_allclose(batch["image"][:10], expected, rtol=1e-5, atol=1e-5)
  train = np.concatenate([b["label"] for b in source.train_batches(epoch=0, global_batch_size=8)])
  assert sorted(train) == sorted(arrays["y_train"])  # Every training example once.


def test_one_dimensional_inputs_get_a_feature_axis_and_num_classes_can_be_given(tmp_path):
  arrays = {**_arrays((1,)), "num_classes": np.int64(5)}
  arrays["x_train"], arrays["x_test"] = arrays["x_train"][:, 0], arrays["x_test"][:, 0]
  source = npz_arrays.load_npz_source(seed=0, data_dir=_save(tmp_path, **arrays))
  assert source.info.input_shape == (1,) and source.info.num_classes == 5


@pytest.mark.parametrize(
  "change,message",
  [
    (lambda a: a.pop("y_test"), r"must hold the arrays .*missing \['y_test'\]"),
    (lambda a: a.update(y_train=a["y_train"][:-1]), r"y_train .* must have shape \(40,\)"),
    (lambda a: a.update(y_test=a["y_test"] + 0.5), "y_test .* integer class labels"),
    (lambda a: a.update(y_test=a["y_test"] - 1), r"in \[0, num_classes=3\), got .* \[-1, 2\]"),
    (lambda a: a.update(num_classes=np.int64(2)), r"in \[0, num_classes=2\), got .* \[0, 2\]"),
    (
      lambda a: a["x_train"].__setitem__((3, 1, 0), np.nan),
      r"x_train .* finite, got nan .*3, 1, 0",
    ),
    (lambda a: a.update(x_test=a["x_test"][:, :5]), r"x_test .* shape of x_train's, \(6, 2\)"),
    (lambda a: a.update(x_train=a["x_train"].astype(str)), "x_train .* real array"),
    (lambda a: a.update(x_train=a["x_train"] + 1j), "x_train .* real array .*, got complex64"),
    (lambda a: a.update(y_train=np.zeros(40, int), y_test=np.zeros(10, int)), "at least 2"),
  ],
)
def test_bad_files_are_clear_errors(tmp_path, change, message):
  arrays = _arrays()
  change(arrays)
  path = _save(tmp_path, **arrays)
  with pytest.raises(ValueError, match=message) as error:
    data.load_source("npz", seed=0, data_dir=path)
  assert path in str(error.value)


def test_a_missing_or_unreadable_file_is_named(tmp_path):
  with pytest.raises(FileNotFoundError, match="nope.npz"):
    data.load_source("npz", seed=0, data_dir=str(tmp_path / "nope.npz"))
  (tmp_path / "bad.npz").write_text("not a zip")
  with pytest.raises(ValueError, match=r"bad.npz' is not a zip archive \(it starts b'not a '\)"):
    data.load_source("npz", seed=0, data_dir=str(tmp_path / "bad.npz"))
  np.save(tmp_path / "one.npy", np.zeros(3))
  with pytest.raises(ValueError, match=r"one.npy' is a .npy file \(one array\); .*np.savez"):
    data.load_source("npz", seed=0, data_dir=str(tmp_path / "one.npy"))
  (tmp_path / "torn.npz").write_bytes(b"PK\x03\x04 cut short")
  with pytest.raises(ValueError, match="torn.npz' is not a readable .npz file"):
    data.load_source("npz", seed=0, data_dir=str(tmp_path / "torn.npz"))
