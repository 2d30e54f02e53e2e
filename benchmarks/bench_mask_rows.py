"""What a pixel mask costs to apply, by how the select gets it: FMix's mask against CutMix's box.

Every row pastes the partner batch (a fixed permutation) into an image batch through one
`jnp.where` over the row layout of `mixjax._masks` (`[B, H, W·C]`), with the pasted pixels
given three ways:

* `box (iota compare)`: CutMix's box, from iota comparisons (`_masks.box_mask`);
* `FMix mask, stored rows`: a pre-sampled FMix mask `[H, W]` repeated over the channels by
  `_masks.mask_rows`, which stores the repeated row mask `[H, W·C]` once;
* `FMix mask, broadcast in the select`: the same mask repeated by a plain broadcast and
  reshape, which XLA fuses into the select (what `mask_rows` did before).

All three paste the same pixels when the mask is the box (checked by
`tests/benchmarks/test_bench_mask_rows.py`). Two more rows time the whole ops, sampling
included: `fmix batch/permute` and `cutmix batch/permute`, and `fmix` once more compiled
with the broadcast instead of `mask_rows` (the op as it was). Rows are jitted, timed in
interleaved rounds in a shuffled order (`bench_ops.measure`) and reported as medians and
ratios to a jitted copy of the batch in the same run.

  python benchmarks/bench_mask_rows.py [--sizes imagenet] [--malloc no-faults] [--cores 1]
    [--reps 40] [--rounds 8]
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import bench_ops  # noqa: E402


def broadcast_rows(mask, image_shape):
  """A mask `[..., *spatial]` repeated over the channels by a plain broadcast (fused by XLA)."""
  import jax.numpy as jnp

  mask = jnp.broadcast_to(mask[..., None], mask.shape + (image_shape[-1],))
  return mask.reshape(mask.shape[:-2] + (mask.shape[-2] * image_shape[-1],))


def pasters(size: bench_ops.Size, mask):
  """The three ways to hand the select its pixels: `name -> fn(images, partner, box)`."""
  import jax.numpy as jnp

  from mixjax import _masks

  def paste(rows_of):
    def fn(x, partner, box):
      rows = _masks.to_rows(x, x.shape)
      return jnp.where(rows_of(box, x.shape), rows[partner], rows).reshape(x.shape)

    return fn

  return {
    "box (iota compare)": paste(_masks.box_mask),
    "FMix mask, stored rows": paste(lambda box, shape: _masks.mask_rows(mask, shape)),
    "FMix mask, broadcast in the select": paste(lambda box, shape: broadcast_rows(mask, shape)),
  }


def rows(size: bench_ops.Size, keys) -> list[bench_ops.Row]:
  """The copy, the three pastes and the whole ops of one batch size."""
  import jax
  import jax.numpy as jnp

  import mixjax

  images, _, one_hot = (jnp.asarray(a) for a in bench_ops._data(size))
  hw = (size.height, size.width)
  mask = mixjax.sample_fmix_params(jax.random.key(1), size.batch, hw).mask
  partner = jax.random.permutation(jax.random.key(2), size.batch)
  box = mixjax.sample_cutmix_params(jax.random.key(3), size.batch, hw).box
  out = [
    bench_ops._jax_row(
      "op", "XLA", "jitted copy (reference)", None, lambda x: x + 0.0, (images,), None
    )
  ]
  for name, fn in pasters(size, mask).items():
    out.append(bench_ops._jax_row("op", "mixjax", name, None, fn, (images, partner, box), None))
  for name in ("fmix", "cutmix"):
    op = getattr(mixjax, name)
    fn = lambda key, x, y, op=op: op(key, x, y)
    row = bench_ops._jax_row(
      "op", "mixjax", f"{name} batch/permute", None, fn, (images, one_hot), keys
    )
    out.append(row)
  out.append(_fmix_with_broadcast_rows(images, one_hot, keys))
  return out


def compile_fmix(rows_fn, key, images, labels):
  """`fmix(key, images, labels)` compiled with `rows_fn` as `_masks.mask_rows`."""
  import jax

  import mixjax
  from mixjax import _masks

  stored = _masks.mask_rows
  _masks.mask_rows = rows_fn
  try:
    return jax.jit(lambda k, x, y: mixjax.fmix(k, x, y)).lower(key, images, labels).compile()
  finally:
    _masks.mask_rows = stored


def _fmix_with_broadcast_rows(images, one_hot, keys) -> bench_ops.Row:
  """The whole `fmix` compiled with :func:`broadcast_rows` (the op as it was)."""
  import jax

  compiled = compile_fmix(broadcast_rows, keys[0], images, one_hot)
  call = lambda i: jax.block_until_ready(compiled(keys[i], images, one_hot))
  name = "fmix batch/permute, broadcast in the select"
  return bench_ops.Row("op", "mixjax", name, None, call, compiled.memory_analysis())


def main(argv: list[str] | None = None) -> None:
  bench_ops.per_size_main(
    argv,
    __doc__,
    "Applying a pixel mask: stored rows, a fused broadcast, a box",
    rows,
    lambda size: f"{size.name}: {size.image_shape} float32, the partner pasted through one mask",
  )


if __name__ == "__main__":
  main()
