"""MNIST-1D (Greydanus & Kobak, arXiv 2011.14439), generated offline and cached.

4,000 training and 1,000 test signals of length 40, 10 classes, `input_shape = (40, 1)`
(one channel: the 1-D models of `mixjax.training.models` take `[B, L, C]`). The signals
are regenerated from the `mnist1d` package's templates with its default arguments (seed
42), never downloaded: `mnist1d.data.make_dataset(get_dataset_args())`, the procedure
the dataset's README gives for building it locally.

* `mnist1d`: the default dataset.
* `mnist1d_shuffle`: the same signals with the 40 positions permuted by one fixed random
  permutation (`shuffle_seq=True` in the package's arguments: `make_dataset` permutes the
  last axis of every example alike before the train/test split), which removes the
  spatial structure a CNN relies on (the README's "shuffle" row).

The split is the package's fixed 80/20 one, whatever `seed` is (`seed` fixes the label
noise and the epoch orders). `make_dataset` reseeds NumPy's and Python's global random
generators; both are restored afterwards. The arrays are cached as
`<cache_dir>/<name>_v1.npz` (written atomically), so later loads do not regenerate them.
"""

from __future__ import annotations

import contextlib
import os
import random
import tempfile

import numpy as np

from mixjax.data import arrays
from mixjax.data import base

NAMES = ("mnist1d", "mnist1d_shuffle")
NUM_CLASSES = 10
_CACHE_VERSION = 1
_KEYS = ("x", "y", "x_test", "y_test")


def default_cache_dir() -> str:
  """`$MIXJAX_CACHE` if set, else `~/.cache/mixjax`."""
  return os.environ.get("MIXJAX_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "mixjax")


@contextlib.contextmanager
def _global_rng_restored():
  """Restores NumPy's and Python's global random states on exit (make_dataset reseeds both)."""
  # The legacy global generator is what make_dataset seeds and draws from.
  numpy_state, python_state = np.random.get_state(), random.getstate()  # noqa: NPY002
  try:
    yield
  finally:
    np.random.set_state(numpy_state)  # noqa: NPY002
    random.setstate(python_state)


def generate(name: str) -> dict[str, np.ndarray]:
  """Generates dataset `name` with the `mnist1d` package (offline, a few seconds).

  Returns:
    `x` float32 `[4000, 40]`, `y` int64 `[4000]`, `x_test` float32 `[1000, 40]`,
    `y_test` int64 `[1000]`.
  """
  from mnist1d.data import get_dataset_args  # noqa: PLC0415 (imported on first use)
  from mnist1d.data import make_dataset  # noqa: PLC0415

  args = get_dataset_args()
  args.shuffle_seq = name == "mnist1d_shuffle"
  with _global_rng_restored():
    data = make_dataset(args)
  return {
    "x": np.asarray(data["x"], np.float32),
    "y": np.asarray(data["y"], np.int64),
    "x_test": np.asarray(data["x_test"], np.float32),
    "y_test": np.asarray(data["y_test"], np.int64),
  }


def _save_atomic(path: str, data: dict[str, np.ndarray]) -> None:
  """Writes the .npz to a temporary file in the same folder, then renames it into place."""
  folder = os.path.dirname(path)
  os.makedirs(folder, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz.tmp")
  try:
    with os.fdopen(fd, "wb") as f:
      np.savez(f, **data)
    os.replace(tmp, path)
  except BaseException:
    os.unlink(tmp)
    raise


def cache_path(name: str, cache_dir: str | None = None) -> str:
  """Where dataset `name`'s arrays are cached."""
  return os.path.join(cache_dir or default_cache_dir(), f"{name}_v{_CACHE_VERSION}.npz")


def load_arrays(name: str, cache_dir: str | None = None) -> dict[str, np.ndarray]:
  """The arrays of `name` (see :func:`generate`), from the cache, generated on a miss.

  Args:
    name: one of `NAMES`.
    cache_dir: the cache folder; None uses :func:`default_cache_dir`.
  """
  if name not in NAMES:
    raise ValueError(f"`name` must be one of {NAMES}, got {name!r}.")
  path = cache_path(name, cache_dir)
  if os.path.exists(path):
    with np.load(path) as cached:
      return {key: cached[key] for key in _KEYS}
  data = generate(name)
  _save_atomic(path, data)
  return data


def load_mnist1d_source(
  name: str,
  *,
  seed: int,
  label_noise: float = 0.0,
  process_index: int = 0,
  process_count: int = 1,
  data_dir: str | None = None,
) -> arrays.ArraySource:
  """Loads MNIST-1D (`name` in `NAMES`) as an in-memory source of `[b, 40, 1]` signals.

  Args:
    name: `"mnist1d"` or `"mnist1d_shuffle"`.
    seed: an int in [0, 2**32); fixes the label noise and the epoch orders (the split
      is the dataset's own).
    label_noise: fraction of training labels redrawn uniformly, in [0, 1].
    process_index: this process, in `[0, process_count)`.
    process_count: the number of processes sharing each global batch.
    data_dir: the cache folder; None uses `~/.cache/mixjax` (or `$MIXJAX_CACHE`).

  Returns:
    An `ArraySource` with 4,000 training and 1,000 test examples.
  """
  if name not in NAMES:
    raise ValueError(f"`name` must be one of {NAMES}, got {name!r}.")
  seed, label_noise, process_index, process_count = base.check_source_args(
    seed, label_noise, process_index, process_count
  )
  data = load_arrays(name, data_dir)
  return arrays.ArraySource.from_splits(
    name,
    num_classes=NUM_CLASSES,
    train_inputs=data["x"][..., None],
    train_labels=data["y"],
    test_inputs=data["x_test"][..., None],
    test_labels=data["y_test"],
    seed=seed,
    label_noise=label_noise,
    process_index=process_index,
    process_count=process_count,
  )
