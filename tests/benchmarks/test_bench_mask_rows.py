"""benchmarks/bench_mask_rows.py: every row is timed and reported, and the three pastes it
compares paste the same pixels (the FMix mask rows, stored or broadcast, are the same mask)."""

import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import mixjax  # noqa: E402
from benchmarks import bench_mask_rows  # noqa: E402
from benchmarks import bench_ops  # noqa: E402
from mixjax import _masks  # noqa: E402
from tests.benchmarks import _reports  # noqa: E402

PASTES = ("box (iota compare)", "FMix mask, stored rows", "FMix mask, broadcast in the select")


def test_a_quick_run_reports_every_row(tmp_path):
  out = tmp_path / "mask.md"
  bench_mask_rows.main(["--sizes", "cifar", "--reps", "2", "--rounds", "1", "--out", str(out)])
  ops = (
    "fmix batch/permute",
    "cutmix batch/permute",
    "fmix batch/permute, broadcast in the select",
  )
  _reports.check_copy_ratio_rows(out.read_text(), (*PASTES, *ops))


def test_the_pastes_agree_when_the_mask_is_the_box():
  size = bench_ops.SIZES["cifar"]
  x = jax.random.uniform(jax.random.key(0), size.image_shape)
  partner = jax.random.permutation(jax.random.key(1), size.batch)
  box = jnp.array([5, 7, 20, 30], jnp.int32)
  mask = _masks.box_mask(box, (1, size.height, size.width, 1)).reshape(size.height, size.width)
  pasted = {name: fn(x, partner, box) for name, fn in bench_mask_rows.pasters(size, mask).items()}
  assert tuple(pasted) == PASTES
  for name in PASTES[1:]:
    np.testing.assert_array_equal(pasted[name], pasted[PASTES[0]], err_msg=name)
  inside = np.asarray(pasted[PASTES[0]])[:, 5:20, 7:30]
  np.testing.assert_array_equal(inside, np.asarray(x)[np.asarray(partner)][:, 5:20, 7:30])
  np.testing.assert_array_equal(np.asarray(pasted[PASTES[0]])[:, :5], np.asarray(x)[:, :5])


def test_the_stored_rows_are_the_broadcast_rows():
  mask = jax.random.bernoulli(jax.random.key(2), 0.4, (6, 9))
  shape = (4, 6, 9, 3)
  np.testing.assert_array_equal(
    _masks.mask_rows(mask, shape), bench_mask_rows.broadcast_rows(mask, shape)
  )
  per_example = jax.random.bernoulli(jax.random.key(3), 0.4, (4, 6, 9))
  np.testing.assert_array_equal(
    _masks.mask_rows(per_example, shape), bench_mask_rows.broadcast_rows(per_example, shape)
  )


def test_fmix_with_broadcast_rows_is_the_same_op_compiled_otherwise():
  size = bench_ops.SIZES["cifar"]
  images, _, one_hot = (jnp.asarray(a) for a in bench_ops._data(size))
  key = jax.random.key(4)
  old = bench_mask_rows.compile_fmix(bench_mask_rows.broadcast_rows, key, images, one_hot)
  assert _masks.mask_rows is not bench_mask_rows.broadcast_rows  # put back
  new = bench_mask_rows.compile_fmix(_masks.mask_rows, key, images, one_hot)
  for a, b in zip(old(key, images, one_hot), mixjax.fmix(key, images, one_hot), strict=True):
    np.testing.assert_array_equal(a, b)
  # The stored rows are one more computation of their own; the broadcast is fused away.
  assert new.as_text().count("fusion(") > old.as_text().count("fusion(")
