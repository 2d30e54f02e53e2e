"""Helpers shared by the experiments: result files, mean ± std tables, timing, progress.

Every experiment writes, to its output directory,

* `results.json`: everything measured, machine-readable (see :func:`write_results`);
* `results.md`: a title, the setup, and markdown tables formatted by :func:`markdown_table`
  with `mean ± std` cells from :func:`mean_std`;
* PNG plots (matplotlib with the Agg backend, see :func:`pyplot`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import numpy as np

# Shared with the training harness's tables (compare.py); re-exported here.
from mixjax.training.reporting import format_mean_std  # noqa: F401
from mixjax.training.reporting import mean_std  # noqa: F401


def parse_seeds(text: str | int | Sequence[int]) -> list[int]:
  """Seeds from `"0,1,2"`, `"0-4"` (inclusive range), an int or a sequence of ints.

  Args:
    text: the seeds.

  Returns:
    A non-empty list of distinct non-negative ints, in the given order.

  Raises:
    ValueError: for anything else.
  """
  if isinstance(text, int | np.integer) and not isinstance(text, bool):
    values = [int(text)]
  elif isinstance(text, str):
    values = []
    try:
      for part in text.replace(" ", "").split(","):
        if "-" in part[1:]:
          low, high = part.split("-", 1)
          values.extend(range(int(low), int(high) + 1))
        else:
          values.append(int(part))
    except ValueError:
      raise ValueError(f"`seeds` must look like '0,1,2' or '0-4', got {text!r}.") from None
  else:
    values = [int(v) for v in text]
  if not values or min(values) < 0 or len(set(values)) != len(values):
    raise ValueError(f"`seeds` must be distinct non-negative ints, got {text!r}.")
  return values


def quick_defaults(
  values: Mapping[str, Any], *, together: Sequence[Sequence[str]] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
  """Decorates an experiment's `run`: with `quick=True`, `values` fill the options not passed.

  An option the caller passes (e.g. `--quick --seeds 0,1`) is kept; only the ones left to
  their defaults take the quick version's values.

  Args:
    values: keyword options of the quick version, by name.
    together: groups of names that go together (e.g. `("epochs", "milestones")`): a group
      takes the quick values only when none of its names was passed.

  Returns:
    The decorator.
  """
  groups = {name: set(group) for group in together for name in group}

  def decorate(run: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(run)
    def run_with_defaults(*args: Any, **options: Any) -> Any:
      if options.get("quick"):
        fill = {k: v for k, v in values.items() if not groups.get(k, {k}) & options.keys()}
        options = {**fill, **options}
      return run(*args, **options)

    return run_with_defaults

  return decorate


def replace_options(settings: Any, experiment: str, **options: Any) -> Any:
  """`dataclasses.replace(settings, **options)`, refusing a name that is not a field.

  Args:
    settings: a dataclass instance, e.g. an experiment's settings or training recipe.
    experiment: the experiment's name, for the message.
    **options: the fields to replace, by name.

  Returns:
    The new instance.

  Raises:
    TypeError: naming the unknown options and the fields there are.
  """
  fields = sorted(f.name for f in dataclasses.fields(settings))
  unknown = sorted(set(options) - set(fields))
  if unknown:
    raise TypeError(f"Unknown {experiment} option(s) {unknown}; expected some of {fields}.")
  return dataclasses.replace(settings, **options)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
  """A GitHub markdown table; cells are `str()`-ed, numbers right-aligned."""
  cells = [[str(c) for c in row] for row in rows]
  for row in cells:
    if len(row) != len(headers):
      raise ValueError(f"Row {row} has {len(row)} cells, expected {len(headers)}.")
  widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

  def line(row):
    return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

  rule = "| " + " | ".join("-" * w for w in widths) + " |"
  return "\n".join([line(list(headers)), rule] + [line(r) for r in cells])


def _to_json(value: Any) -> Any:
  if dataclasses.is_dataclass(value) and not isinstance(value, type):
    return _to_json(dataclasses.asdict(value))
  if isinstance(value, dict):
    return {str(k): _to_json(v) for k, v in value.items()}
  if isinstance(value, list | tuple):
    return [_to_json(v) for v in value]
  if isinstance(value, np.ndarray) or type(value).__module__.startswith("jax"):
    return _to_json(np.asarray(value).tolist())
  if isinstance(value, np.generic):
    return value.item()
  if isinstance(value, float) and not math.isfinite(value):
    return None
  return value


def environment() -> dict[str, Any]:
  """Versions and hardware, recorded in every results.json."""
  import jax  # Imported here so that this module stays cheap to import.

  return {
    "python": sys.version.split()[0],
    "jax": jax.__version__,
    "backend": jax.default_backend(),
    "devices": [str(d) for d in jax.devices()],
    "cpu_count": os.cpu_count(),
    "platform": platform.platform(),
  }


def write_results(out_dir: str, results: dict[str, Any], markdown: str) -> None:
  """Writes `results.json` (with :func:`environment` added) and `results.md`.

  Args:
    out_dir: the output directory, created if missing.
    results: JSON-able data (NumPy / JAX arrays and dataclasses are converted).
    markdown: the content of results.md.
  """
  os.makedirs(out_dir, exist_ok=True)
  payload = dict(results)
  payload.setdefault("environment", environment())
  with open(os.path.join(out_dir, "results.json"), "w") as f:
    json.dump(_to_json(payload), f, indent=2)
    f.write("\n")
  with open(os.path.join(out_dir, "results.md"), "w") as f:
    f.write(markdown.rstrip() + "\n")


def pyplot():
  """matplotlib.pyplot with the non-interactive Agg backend selected."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  return plt


def save_figure(fig, path: str, *, dpi: int = 110, tight: bool = True) -> None:
  """Saves a matplotlib figure to `path` (PNG) and closes it.

  Args:
    fig: the figure.
    path: the file.
    dpi: its resolution.
    tight: apply `tight_layout` first (False for figures with their own layout engine).
  """
  if tight:
    fig.tight_layout()
  fig.savefig(path, dpi=dpi)
  pyplot().close(fig)


class Timer:
  """Wall-clock timer: `with Timer() as t: ...; t.seconds`."""

  def __init__(self):
    self.start = time.perf_counter()
    self.seconds = 0.0

  def __enter__(self) -> Timer:
    self.start = time.perf_counter()
    return self

  def __exit__(self, *exc) -> None:
    self.seconds = time.perf_counter() - self.start

  def elapsed(self) -> float:
    return time.perf_counter() - self.start


class Progress:
  """Prints one line per run: `[3/24 0:42] gan: dataset=ring z=2 mixup seed=1 ...`.

  Args:
    name: the experiment name, the prefix of every line.
    total: the number of runs, or None if unknown.
    stream: where to print (default stdout, flushed after each line).
  """

  def __init__(self, name: str, total: int | None = None, stream=None):
    self.name = name
    self.total = total
    self.count = 0
    self.stream = stream
    self.start = time.perf_counter()

  def _clock(self) -> str:
    seconds = int(time.perf_counter() - self.start)
    return f"{seconds // 60}:{seconds % 60:02d}"

  def _print(self, text: str) -> None:
    print(text, file=self.stream or sys.stdout, flush=True)

  def start_run(self, description: str, count: int = 1) -> None:
    """Announces the next run, or the next `count` runs done together."""
    first = self.count + 1
    self.count += count
    runs = f"{first}" if count == 1 else f"{first}-{self.count}"
    total = f"/{self.total}" if self.total else ""
    self._print(f"[{runs}{total} {self._clock()}] {self.name}: {description}")

  def note(self, text: str) -> None:
    """Prints a detail line under the current run."""
    self._print(f"    {text}")
