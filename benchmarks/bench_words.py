"""The ops' threefry draw (`mixjax._words.bits`) against `jax.random.bits`, the same words.

`_words.bits` computes exactly the words of `jax.random.bits(key, shape, jnp.uint32)` but
with Threefry-2x32 written out in `jnp`, where XLA:CPU lowers jax's as a rolled loop whose
body fusions it splits across threads. Each size is drawn both ways, jitted, with a fresh key
per call, timed in interleaved rounds in a shuffled order (`bench_ops.measure`). The sizes
are draws the ops make: 1,624 words (CutMix per example, 128 examples), 50,000 and
6,422,528 (FMix's noise per example at ImageNet size is of that order).

  python benchmarks/bench_words.py [--words 1624,50000,6422528] [--malloc no-faults]
    [--cores 1] [--reps 200] [--rounds 10]
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import bench_ops  # noqa: E402


def draws() -> dict[str, object]:
  """`name -> draw(key, shape)`: the two ways of drawing the same words."""
  import jax
  import jax.numpy as jnp

  from mixjax import _words

  return {
    "jax.random.bits": lambda key, shape: jax.random.bits(key, shape, jnp.uint32),
    "mixjax _words.bits": _words.bits,
  }


def rows(sizes: list[int], keys) -> list[bench_ops.Row]:
  out = []
  for size in sizes:
    for name, draw in draws().items():
      fn = lambda key, draw=draw, size=size: draw(key, (size,))
      out.append(bench_ops._jax_row("op", "XLA", f"{name} {size:,}", None, fn, (), keys))
  return out


def table(sizes: list[int], timed: list[bench_ops.Row]) -> list[str]:
  body = []
  for i in range(len(sizes)):
    reference = timed[2 * i]
    for row in timed[2 * i : 2 * i + 2]:
      ratio = f"{row.median / reference.median:.2f}"
      body.append([row.name, f"{row.median * 1e6:.0f}", f"{min(row.times) * 1e6:.0f}", ratio])
  columns = ["row", "median µs", "min µs", "× jax.random.bits"]
  return bench_ops._table("uint32 words per call", columns, body)


def main(argv: list[str] | None = None) -> None:
  parser = bench_ops.small_parser(__doc__, reps=200, rounds=10)
  parser.add_argument("--words", default="1624,50000,6422528", help="comma-separated sizes")
  args = parser.parse_args(argv)
  bench_ops.start(args)
  import jax

  sizes = [int(s) for s in args.words.split(",") if s.strip()]
  keys = list(jax.random.split(jax.random.key(0), args.reps + args.rounds + 2))
  timed = rows(sizes, keys)
  bench_ops.measure(timed, args.reps, min(args.reps, args.rounds), warmup=2)
  lines = ["# The ops' threefry draw vs jax.random.bits", ""]
  lines += bench_ops.environment_lines(args.malloc, torch_peers=False) + [""] + table(sizes, timed)
  bench_ops.report(lines, args.out)


if __name__ == "__main__":
  main()
