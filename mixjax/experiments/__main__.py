"""Command line: `python -m mixjax.experiments NAME --out DIR [--quick] [--seeds 0,1,2] [...]`.

`NAME` is one of :data:`mixjax.experiments.REGISTRY`. Options after the common ones are
declared by the experiment's own `add_arguments` (see `python -m mixjax.experiments NAME
--help`), spelled `--snake_case` like train.py's flags, and passed to its `run` as keyword
arguments. Older dashed spellings (`--disc-steps`, `--data-dir`) still work for one
release, with a deprecation message on stderr.

Examples:
  python -m mixjax.experiments gan --out runs/gan
  python -m mixjax.experiments gan --out /tmp/gan --quick --seeds 0 --disc_steps 3
  python -m mixjax.experiments figures --out runs/figures
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from mixjax import experiments
from mixjax.experiments import common

_PROG = "python -m mixjax.experiments"


def _common_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
  parser.add_argument(
    "name",
    metavar="NAME",
    choices=sorted(experiments.REGISTRY),
    help=f"the experiment, one of: {', '.join(sorted(experiments.REGISTRY))}",
  )
  parser.add_argument("--out", required=required, help="output directory (created)")
  parser.add_argument("--quick", action="store_true", help="a tiny version, for smoke tests")
  parser.add_argument(
    "--seeds",
    type=common.parse_seeds,
    default=None,
    help="seeds, e.g. '0,1,2' or '0-4' (default: the experiment's own)",
  )


def _full_parser(name: str | None, module) -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
    prog=_PROG,
    description="Run one mixjax experiment; it writes results.json, results.md and PNGs.",
    epilog=f"available now: {', '.join(experiments.available())}",
  )
  _common_arguments(parser, required=True)
  if module is not None and hasattr(module, "add_arguments"):
    group = parser.add_argument_group(f"{name} options", argument_default=argparse.SUPPRESS)
    module.add_arguments(group)
  return parser


def main(argv: Sequence[str] | None = None) -> dict:
  """Parses `argv` (default `sys.argv[1:]`), runs the experiment, returns its results."""
  argv = list(sys.argv[1:] if argv is None else argv)
  # First pass: find NAME only, so that only the chosen experiment's module is imported.
  pre = argparse.ArgumentParser(add_help=False)
  pre.add_argument("name", nargs="?")
  pre.add_argument("--out")
  pre.add_argument("--seeds")
  pre.add_argument("--quick", action="store_true")
  name = pre.parse_known_args(argv)[0].name
  module = None
  if name in experiments.REGISTRY:
    try:
      module = experiments.load(name)
    except experiments.ExperimentNotAvailable as e:
      _full_parser(None, None).exit(2, f"{_PROG}: error: {e}\n")
  args = vars(_full_parser(name, module).parse_args(argv))
  name, out_dir, quick, seeds = (args.pop(k) for k in ("name", "out", "quick", "seeds"))
  if seeds is not None:
    args["seeds"] = seeds
  start = time.perf_counter()
  results = module.run(out_dir, quick=quick, **args)
  print(f"{name}: done in {time.perf_counter() - start:.1f} s; results in {out_dir}", flush=True)
  return results


if __name__ == "__main__":
  main()
