"""The command-line flags every training entry point shares, and their common start.

train.py, `python -m mixjax.training.compare` and `python -m mixjax.training.cross_validation`
call :func:`define_flags` when they run as programs (never at import), then :func:`start`
first thing in their `main`. Library imports register no flag.
"""

from __future__ import annotations

from collections.abc import Sequence

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from mixjax.training import distributed

# The flags defined below belong to the entry point that calls define_flags: its --help
# lists them (absl attributes them to the caller, as ml_collections' config_flags does).
flags.disclaim_key_flags()


def define_flags(*, workdir_help: str) -> None:
  """Registers --config (a config file), --workdir and the --distributed flags.

  Args:
    workdir_help: the entry point's own help line for --workdir.
  """
  config_flags.DEFINE_config_file("config", None, "Path to a config file.", lock_config=True)
  flags.DEFINE_string("workdir", None, workdir_help)
  flags.DEFINE_bool(
    "distributed",
    False,
    "Call jax.distributed.initialize (arguments from --coordinator_address, --num_processes "
    "and --process_id, or else from the environment, e.g. SLURM / Cloud TPU / "
    "JAX_COORDINATOR_ADDRESS).",
  )
  flags.DEFINE_string("coordinator_address", None, "host:port of process 0.")
  flags.DEFINE_integer("num_processes", None, "Number of processes.")
  flags.DEFINE_integer("process_id", None, "This process's index.")
  flags.mark_flags_as_required(["config", "workdir"])


def start(argv: Sequence[str]) -> None:
  """Refuses stray arguments, quiets orbax's INFO logs and joins a multi-process run if asked."""
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)  # Orbax logs every save at INFO.
  distributed.initialize_from_flags()
