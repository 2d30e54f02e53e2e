"""Where random_erasing's noise fill spends its time: the fill taken apart, stage by stage.

Every row fills the same pre-sampled erasing boxes of an image batch (the op's own
`_masks.fill_where`, so the same select over the row layout) with a fill that adds one
stage of `mixjax._erasing.pixel_noise` at a time:

* `constant`: `value=0.0` (the select alone);
* `hash`: the two keyed integer hashes of the pixel index, read as a uniform in [0, 1);
* `hash + log`: one `log` of that uniform per pixel (a transcendental, as cheap as XLA
  makes one);
* `hash + table`: the op's noise, the whole of `pixel_noise`: the hash's top 12 bits pick
  one of the 4,096 levels of `noise_levels` (a 16 KB table, so one L1 load per pixel);
* `hash + table, N levels`: the same with finer tables (`noise_levels(bits)`, 8,192 to
  65,536 levels: 32 to 256 KB), the sizes the op's 4,096 was chosen against;
* `hash + erfinv`: an exact normal instead, `√2·erfinv` of the hashed symmetric uniform
  (jax's transform; the op's fill until the table replaced it);
* `normal batch`: `jax.random.normal` of a whole batch, then the fill (the first version:
  threefry per value and a materialised noise batch).

Two more rows take the transform alone, on a flat uniform batch computed beforehand (no
hash, no mask, one long axis for XLA:CPU to vectorise): `erfinv only` (jax's `lax.erf_inv`)
and, for scale, `log only`. Rows are
jitted, timed in interleaved rounds in a shuffled order (`bench_ops.measure`) and
reported as medians and as ratios to a jitted copy of the batch in the same run.

  python benchmarks/bench_noise_fill.py [--sizes imagenet] [--malloc no-faults] [--cores 1]
    [--reps 40] [--rounds 8]
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import bench_ops  # noqa: E402


def _fills(size: bench_ops.Size) -> dict[str, object]:
  """The stage-by-stage fills, `fill(key) -> values broadcastable to the batch`."""
  import jax
  import jax.numpy as jnp

  from mixjax import _beta
  from mixjax import _erasing

  def hashed(key):
    return _erasing.pixel_words(key, size.image_shape)

  def uniform(key):
    return (hashed(key) >> 8).astype(jnp.float32) * jnp.float32(2.0**-24)

  return {
    "constant": lambda key: jnp.float32(0.0),
    "hash": uniform,
    "hash + log": lambda key: jnp.log(uniform(key) + jnp.float32(2.0**-25)),
    "hash + table": lambda key: _erasing.pixel_noise(key, size.image_shape),
    **{
      f"hash + table, {1 << bits:,} levels": (
        lambda key, bits=bits: _erasing.noise_from_words(hashed(key), bits)
      )
      for bits in (13, 14, 16)
    },
    "hash + erfinv": lambda key: _beta.normal(hashed(key)),
    "normal batch": lambda key: jax.random.normal(key, size.image_shape, jnp.float32),
  }


def rows(size: bench_ops.Size, keys) -> list[bench_ops.Row]:
  """The copy, the fills and the transform-only rows of one batch size."""
  import jax
  import jax.numpy as jnp
  import numpy as np

  from mixjax import _erasing
  from mixjax import _masks

  images = jnp.asarray(bench_ops._data(size)[0])
  boxes = _erasing.sample_erasing_params(
    jax.random.key(1), size.batch, (size.height, size.width), probability=1.0
  )
  mask = lambda: _masks.box_mask(boxes, images.shape)
  out = [
    bench_ops._jax_row(
      "op", "XLA", "jitted copy (reference)", None, lambda x: x + 0.0, (images,), None
    )
  ]
  for name, fill in _fills(size).items():
    fn = lambda key, x, fill=fill: _masks.fill_where(mask(), fill(key), x)
    out.append(bench_ops._jax_row("op", "mixjax", f"fill: {name}", None, fn, (images,), keys))
  rng = np.random.default_rng(0)
  # Flat, so that XLA:CPU vectorises the transform over one long axis: its best case.
  centred = jnp.asarray(rng.uniform(-1.0, 1.0, images.size).astype(np.float32))
  positive = jnp.asarray(rng.uniform(2.0**-24, 1.0, images.size).astype(np.float32))
  out.append(
    bench_ops._jax_row("op", "XLA", "erfinv only", None, jax.lax.erf_inv, (centred,), None)
  )
  out.append(bench_ops._jax_row("op", "XLA", "log only", None, jnp.log, (positive,), None))
  return out


def main(argv: list[str] | None = None) -> None:
  bench_ops.per_size_main(
    argv,
    __doc__,
    "random_erasing noise fill, stage by stage",
    rows,
    lambda size: f"{size.name}: {size.image_shape} float32, every box erased",
  )


if __name__ == "__main__":
  main()
