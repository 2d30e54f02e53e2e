"""Your own arrays from one `.npz` file (`--config.dataset=npz --config.data_dir=FILE.npz`).

The file holds `x_train`, `y_train`, `x_test` and `y_test` (e.g. `np.savez(path,
x_train=..., ...)`): inputs `[N, ...]` of any rank and a real dtype (`[N, H, W, C]`
images, `[N, L, C]` sequences, `[N, D]` tables; `[N]` becomes `[N, 1]`), labels int
`[N]` in `[0, num_classes)`. `num_classes` is `max(label) + 1` over both splits, or a
scalar int array `num_classes` in the file (for classes absent from the data). Inputs
are normalised per last-axis channel with the training statistics, as every source.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from mixjax.data import arrays
from mixjax.data import base

KEYS = ("x_train", "y_train", "x_test", "y_test")


def _read(path: str) -> dict[str, np.ndarray]:
  """The arrays of the .npz at `path` (no pickles)."""
  if not isinstance(path, str) or not path:
    raise ValueError(f"`data_dir` must be the path of an .npz file, got {path!r}.")
  if not os.path.isfile(path):
    raise FileNotFoundError(f"`data_dir` must be an existing .npz file, got {path!r}.")
  _check_magic(path)
  try:
    # Opened here: np.load leaves its own handle open when the zip is damaged.
    with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as f:
      found = {key: f[key] for key in f.files}
  except (OSError, ValueError, zipfile.BadZipFile) as error:
    raise ValueError(f"`data_dir`={path!r} is not a readable .npz file: {error}") from None
  missing = [key for key in KEYS if key not in found]
  if missing:
    raise ValueError(
      f"`data_dir`={path!r} must hold the arrays {list(KEYS)}; missing {missing}, "
      f"found {sorted(found)}."
    )
  return found


def _check_magic(path: str) -> None:
  """Refuses a file that is not a zip archive (an .npz) before numpy guesses what it is."""
  with open(path, "rb") as f:
    head = f.read(6)
  if head.startswith(b"PK"):
    return
  what = (
    "a .npy file (one array)" if head == b"\x93NUMPY" else f"not a zip archive (it starts {head!r})"
  )
  raise ValueError(
    f"`data_dir`={path!r} is {what}; it must be an .npz file of the arrays {list(KEYS)}, "
    "as `np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)` writes."
  )


def _check_split(found: dict[str, np.ndarray], split: str, path: str) -> tuple[np.ndarray, ...]:
  """The split's inputs (at least rank 2, finite) and int64 labels, checked."""
  x, y = found[f"x_{split}"], found[f"y_{split}"]
  where = f"in {path!r}"
  real = np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
  if x.ndim == 0 or not len(x) or x.dtype == bool or not real:
    raise ValueError(
      f"x_{split} {where} must be a non-empty real array [N, ...], got {x.dtype} {x.shape}."
    )
  if x.ndim == 1:
    x = x[:, None]
  if y.shape != (len(x),):
    raise ValueError(
      f"y_{split} {where} must have shape ({len(x)},), one label per row of x_{split} "
      f"{x.shape}, got {y.shape}."
    )
  if not np.issubdtype(y.dtype, np.integer):
    raise ValueError(f"y_{split} {where} must hold integer class labels, got dtype {y.dtype}.")
  if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
    bad = np.argwhere(~np.isfinite(x))[0]
    raise ValueError(
      f"x_{split} {where} must be finite, got {x[tuple(bad)]} at index "
      f"{tuple(int(i) for i in bad)}."
    )
  return x, y.astype(np.int64)


def _num_classes(found: dict[str, np.ndarray], labels: list[np.ndarray], path: str) -> int:
  """From the file's `num_classes`, or the largest label + 1; checks every label fits."""
  low = min(int(y.min()) for y in labels)
  high = max(int(y.max()) for y in labels)
  if "num_classes" in found:
    value = found["num_classes"]
    if value.shape != () or not np.issubdtype(value.dtype, np.integer) or value < 2:
      raise ValueError(f"num_classes in {path!r} must be a scalar int >= 2, got {value!r}.")
    num_classes = int(value)
  else:
    num_classes = high + 1
  if low < 0 or high >= num_classes:
    raise ValueError(
      f"the labels in {path!r} must be in [0, num_classes={num_classes}), got labels in "
      f"[{low}, {high}]."
    )
  if num_classes < 2:
    raise ValueError(f"the labels in {path!r} must name at least 2 classes, got {num_classes}.")
  return num_classes


def load_npz_source(
  *,
  seed: int,
  label_noise: float = 0.0,
  process_index: int = 0,
  process_count: int = 1,
  data_dir: str | None = None,
) -> arrays.ArraySource:
  """Loads the arrays of the .npz file `data_dir` as an in-memory source named "npz".

  Args:
    seed: an int in [0, 2**32); fixes the label noise and the epoch orders.
    label_noise: fraction of training labels redrawn uniformly, in [0, 1].
    process_index: this process, in `[0, process_count)`.
    process_count: the number of processes sharing each global batch.
    data_dir: the path of the .npz file (required).

  Returns:
    An in-memory source; `input_shape` is `x_train.shape[1:]`.

  Raises:
    FileNotFoundError: no such file.
    ValueError: a missing array, mismatched lengths or shapes, non-integer or out-of-range
      labels, non-finite inputs; the message names the array and the file.
  """
  seed, label_noise, process_index, process_count = base.check_source_args(
    seed, label_noise, process_index, process_count
  )
  found = _read(data_dir)
  x_train, y_train = _check_split(found, "train", data_dir)
  x_test, y_test = _check_split(found, "test", data_dir)
  if x_test.shape[1:] != x_train.shape[1:]:
    raise ValueError(
      f"x_test in {data_dir!r} must have examples of the shape of x_train's, "
      f"{x_train.shape[1:]}, got {x_test.shape[1:]}."
    )
  return arrays.ArraySource.from_splits(
    "npz",
    num_classes=_num_classes(found, [y_train, y_test], data_dir),
    train_inputs=x_train,
    train_labels=y_train,
    test_inputs=x_test,
    test_labels=y_test,
    seed=seed,
    label_noise=label_noise,
    process_index=process_index,
    process_count=process_count,
  )
