"""benchmarks/bench_noise_fill.py: every stage is timed and reported, and each stage's fill
is what it claims to be (`hash + table` is the op's own noise, bit for bit, and `hash +
erfinv` the exact normal of the same words)."""

import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks import bench_noise_fill  # noqa: E402
from benchmarks import bench_ops  # noqa: E402
from mixjax import _erasing  # noqa: E402
from tests.benchmarks import _reports  # noqa: E402

TABLES = tuple(f"hash + table, {n} levels" for n in ("8,192", "16,384", "65,536"))
STAGES = (
  "constant",
  "hash",
  "hash + log",
  "hash + table",
  *TABLES,
  "hash + erfinv",
  "normal batch",
)


def test_a_quick_run_reports_every_row(tmp_path):
  out = tmp_path / "noise.md"
  bench_noise_fill.main(["--sizes", "cifar", "--reps", "2", "--rounds", "1", "--out", str(out)])
  names = (*(f"fill: {s}" for s in STAGES), "erfinv only", "log only")
  _reports.check_copy_ratio_rows(out.read_text(), names)


def test_the_stages_are_the_fills_they_name():
  size = bench_ops.SIZES["cifar"]
  fills = bench_noise_fill._fills(size)
  assert tuple(fills) == STAGES
  key = jax.random.key(3)
  noise = np.asarray(_erasing.pixel_noise(key, size.image_shape))
  np.testing.assert_array_equal(fills["hash + table"](key), noise)
  for name, bits in zip(TABLES, (13, 14, 16), strict=True):
    finer = np.asarray(fills[name](key))
    assert finer.shape == size.image_shape and len(np.unique(finer)) > len(np.unique(noise))
    assert np.isin(finer, _erasing.noise_levels(bits)).all()
  exact = np.asarray(fills["hash + erfinv"](key))
  assert exact.shape == size.image_shape and len(np.unique(exact)) > 4 * len(np.unique(noise))
  # The same words: each exact normal lies in the bin of its table level (to float32).
  level = np.searchsorted(_erasing.noise_levels(), noise)
  position = stats.norm.cdf(exact.astype(np.float64)) * len(_erasing.noise_levels())
  assert np.all((position > level - 1e-3) & (position < level + 1 + 1e-3))
  uniform = np.asarray(fills["hash"](key))
  assert uniform.shape == size.image_shape and 0 <= uniform.min() and uniform.max() < 1
  np.testing.assert_allclose(
    np.asarray(fills["hash + log"](key)), np.log(uniform + 2.0**-25), rtol=1e-6
  )
  assert float(fills["constant"](key)) == 0.0
  assert fills["normal batch"](key).dtype == jnp.float32
