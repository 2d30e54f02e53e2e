"""Paper-style experiments, run with `python -m mixjax.experiments NAME --out DIR [--quick]`.

Every experiment is a module `mixjax.experiments.<name>` that exposes

* `run(out_dir: str, *, quick: bool, **options) -> dict`: runs the experiment, writes
  `results.json`, `results.md` (a markdown table like the paper's) and PNG plots to
  `out_dir`, prints the table and one progress line per run, and returns the results.
  `quick=True` is a tiny version for smoke tests (well under a minute on CPU). The
  command line passes `seeds=[...]` only when `--seeds` is given.
* optionally `add_arguments(parser) -> None`, which declares its own command-line options
  with :func:`mixjax.experiments.options.add` (`parser` is an argparse argument group;
  options are spelled `--snake_case` after the `run` keyword they set: `--disc_steps 5`
  arrives in `run` as `disc_steps=5`; an option that is not given is not passed, so
  `run`'s defaults apply).

Shared pieces: :mod:`~mixjax.experiments.common` (result files, tables, progress),
:mod:`~mixjax.experiments.runs` (training runs through the harness, reused when finished;
methods and recipes) and :mod:`~mixjax.experiments.options` (option spellings, comma
lists). An experiment that trains classifiers builds its grid as `runs.Run` specs and
calls `runs.train_all`; see `tabular.py` for a short one.

:data:`REGISTRY` maps each name to its module path. Modules are imported only when chosen,
so an experiment's heavy dependencies cost nothing to the others, and a name whose module
does not exist yet fails with :class:`ExperimentNotAvailable`.
"""

from __future__ import annotations

import importlib
import importlib.util
import types
from typing import Any

from mixjax import _extras

_extras.require("train", "mixjax.experiments", "flax", "optax", "ml_collections", "matplotlib")

# The one name -> module registry. Add a line here when adding an experiment.
REGISTRY: dict[str, str] = {
  "corrupted_labels": "mixjax.experiments.corrupted_labels",
  "adversarial": "mixjax.experiments.adversarial",
  "gan": "mixjax.experiments.gan",
  "tabular": "mixjax.experiments.tabular",
  "speech": "mixjax.experiments.speech",
  "figures": "mixjax.experiments.figures",
  "generalization": "mixjax.experiments.generalization",
  "calibration": "mixjax.experiments.calibration",
}


class ExperimentNotAvailable(ImportError):
  """A registered experiment whose module is not (yet) part of the package."""


def load(name: str) -> types.ModuleType:
  """Imports and returns the module of experiment `name`.

  Args:
    name: a key of :data:`REGISTRY`.

  Returns:
    The module, which has a `run` function.

  Raises:
    KeyError: `name` is not registered.
    ExperimentNotAvailable: `name` is registered but its module does not exist or has no
      `run` function.
  """
  if name not in REGISTRY:
    raise KeyError(f"Unknown experiment {name!r}; expected one of {sorted(REGISTRY)}.")
  module_path = REGISTRY[name]
  try:
    module = importlib.import_module(module_path)
  except ModuleNotFoundError as e:
    if e.name != module_path:
      raise  # The module exists but one of its own imports is missing: show that.
    raise ExperimentNotAvailable(
      f"Experiment {name!r} is registered but not available yet: module {module_path} "
      f"does not exist. Available now: {available()}."
    ) from e
  if not callable(getattr(module, "run", None)):
    raise ExperimentNotAvailable(f"Module {module_path} of experiment {name!r} has no run().")
  return module


def available() -> list[str]:
  """Names of the registered experiments whose modules exist (without importing them)."""
  return sorted(name for name, path in REGISTRY.items() if importlib.util.find_spec(path))


def run(name: str, out_dir: str, *, quick: bool = False, **options: Any) -> dict:
  """Runs experiment `name`; see the module docstring for the contract."""
  return load(name).run(out_dir, quick=quick, **options)
