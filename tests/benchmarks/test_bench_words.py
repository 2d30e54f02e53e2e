"""benchmarks/bench_words.py: both draws of every size are timed and reported, and they draw
the same words."""

import pathlib
import sys

import jax
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks import bench_words  # noqa: E402


def test_a_quick_run_reports_both_draws_of_every_size(tmp_path):
  out = tmp_path / "words.md"
  bench_words.main(["--words", "16,1624", "--reps", "2", "--rounds", "1", "--out", str(out)])
  lines = out.read_text().splitlines()
  for size in ("16", "1,624"):
    for name in ("jax.random.bits", "mixjax _words.bits"):
      line = next(row for row in lines if row.startswith(f"| {name} {size} |"))
      assert float(line.split("|")[2]) > 0, line
    reference = next(row for row in lines if row.startswith(f"| jax.random.bits {size} |"))
    assert reference.split("|")[-2].strip() == "1.00"


def test_the_two_draws_are_the_same_words():
  draws = list(bench_words.draws().values())
  key = jax.random.key(5)
  np.testing.assert_array_equal(draws[0](key, (999,)), draws[1](key, (999,)))
