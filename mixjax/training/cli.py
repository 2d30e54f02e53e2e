"""The command-line flags every training entry point shares, their common start and errors.

train.py, `python -m mixjax.training.compare` and `python -m mixjax.training.cross_validation`
call :func:`define_flags` when they run as programs (never at import), then :func:`run`
(absl's `app.run` with one-line errors) and :func:`start` first thing in their `main`.
Library imports register no flag.

Errors are one line on stderr, without a traceback unless `--verbose` is passed:
`error: config.KEY must be ..., got ...` (a bad flag or config value, an unknown key:
exit status 2), `error: ...` for an unusable workdir (in a multi-process run, every
process stops with it), a failed checkpoint write, a diverged run or a train source that
ran short, or a multi-process run that lost a process (status 1). SIGTERM / Ctrl-C save a
checkpoint and print how to resume (status 128 + the signal number: 143, 130). A failing
process of a multi-process run waits at most `distributed.LEAVE_TIMEOUT_S` for the others
at jax.distributed's shutdown, so a peer that died does not keep it waiting.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import sys
import traceback
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import jax
from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from mixjax.training import checkpoint
from mixjax.training import config as config_lib
from mixjax.training import distributed
from mixjax.training import stopping
from mixjax.training import workdir

USAGE_ERROR = 2  # The exit status of a bad command line or config.
FAILURE = 1  # The exit status of a run that failed (workdir, checkpoint write, divergence).

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
  flags.DEFINE_bool("verbose", False, "Show the Python traceback of an error.")
  flags.mark_flags_as_required(["config", "workdir"])


def start(argv: Sequence[str]) -> None:
  """Refuses stray arguments, quiets orbax's INFO logs and joins a multi-process run if asked."""
  if len(argv) > 1:
    _fail(
      f"unexpected arguments {argv[1:]}: every option is a flag (--name=value, "
      "--config.KEY=VALUE); see --help.",
      USAGE_ERROR,
      argv,
    )
  logging.set_verbosity(logging.WARNING)  # Orbax logs every save at INFO.
  try:
    distributed.initialize_from_flags()
  except ValueError as error:  # jax's: no coordinator address, a bad process id ...
    _fail(f"--distributed: {error} {_DISTRIBUTED_HINT}", USAGE_ERROR, sys.argv, error)


_DISTRIBUTED_HINT = (
  "Pass --coordinator_address=HOST:PORT --num_processes=N --process_id=I, or run where "
  "jax finds them (SLURM, Cloud TPU, JAX_COORDINATOR_ADDRESS)."
)


def _fail(message: str, status: int, argv: Sequence[str], error: BaseException | None = None):
  """Prints `error: message` (or re-raises `error` with --verbose) and exits with `status`."""
  if error is not None and _verbose(argv):
    raise error
  print(f"error: {message}", file=sys.stderr, flush=True)
  sys.exit(status)


def _verbose(argv: Sequence[str]) -> bool:
  """Whether `argv` holds --verbose (also --verbose=true / 1)."""
  flag = [a.lstrip("-") for a in argv if a.lstrip("-").split("=")[0] in ("verbose", "noverbose")]
  return bool(flag) and flag[-1] in ("verbose", "verbose=true", "verbose=True", "verbose=1")


def _config_overrides(argv: Sequence[str]) -> list[str]:
  """The keys of the `--config.KEY=VALUE` flags of `argv`."""
  return [m.group(1) for a in argv if (m := re.match(r"^--?config\.([^=.]+)", a))]


def parse_flags(argv: list[str]) -> list[str]:
  """absl's flag parsing with one-line errors (an unknown `config.KEY` names close matches)."""
  known = set(config_lib.default_config().keys())
  for key in _config_overrides(argv):
    if key not in known:
      _fail(config_lib.unknown_key_message(key, known), USAGE_ERROR, argv)
  try:
    remaining = flags.FLAGS(argv)
    flags.FLAGS.config.keys()  # ml_collections loads the file at the first use of the config.
    return remaining
  except OSError as error:  # The config file: missing, unreadable.
    reason = str(error.__cause__ or error).strip().splitlines()[-1].strip()
    _fail(f"--config could not be loaded: {reason}", USAGE_ERROR, argv, error)
  except flags.Error as error:
    _fail(str(error).replace("flag --config.", "config."), USAGE_ERROR, argv, error)
  except (AttributeError, KeyError, TypeError, ValueError) as error:  # ml_collections.
    _fail(f"{type(error).__name__}: {error}", USAGE_ERROR, argv, error)


def guarded(main: Callable[[Sequence[str]], Any]) -> Callable[[Sequence[str]], Any]:
  """`main` with its errors turned into one line and an exit status (see the module doc)."""

  @functools.wraps(main)
  def run_main(argv: Sequence[str]) -> Any:
    try:
      return _one_line_errors(main, argv)
    except BaseException as error:
      _leave_failed_run(error)
      raise

  return run_main


def _one_line_errors(main: Callable[[Sequence[str]], Any], argv: Sequence[str]) -> Any:
  """`main(argv)`, its expected errors printed as one line and exited with a status."""
  raw = sys.argv
  try:
    return main(argv)
  except config_lib.ConfigError as error:
    _fail(str(error), USAGE_ERROR, raw, error)
  except stopping.Interrupted as error:
    print(str(error), file=sys.stderr, flush=True)
    sys.exit(128 + error.signum)
  except KeyboardInterrupt:
    print(
      "interrupted (Ctrl-C twice): the last checkpoint is kept; rerun the same command to resume.",
      file=sys.stderr,
      flush=True,
    )
    sys.exit(128 + signal.SIGINT)
  except (
    workdir.WorkdirError,
    distributed.StartError,
    checkpoint.CheckpointError,
    stopping.Diverged,
    stopping.ShortEpoch,
    jax.errors.JaxRuntimeError,  # One line only for a lost process (below).
  ) as error:
    if distributed.lost_peer(error):  # A collective's, a checkpoint write's.
      _fail(distributed.lost_peer_message(error), FAILURE, raw, error)
    if isinstance(error, jax.errors.JaxRuntimeError):
      raise
    _fail(str(error), FAILURE, raw, error)


def _leave_failed_run(error: BaseException) -> None:
  """A process of a multi-process run that fails leaves it without waiting for dead peers.

  Its peers meet it at jax.distributed's shutdown barrier when they fail too; one that died
  (killed, its host lost) never comes, and jax would wait for its heartbeat timeout and
  then abort this process. After `distributed.LEAVE_TIMEOUT_S` it exits with its status.
  """
  status = error.code if isinstance(error, SystemExit) else FAILURE
  if status in (0, None) or distributed.shut_down():
    return
  if not isinstance(error, SystemExit):  # os._exit skips absl's report of the error.
    traceback.print_exception(error)
  print(
    f"error: process {jax.process_index()} stops without the run's other processes: they did "
    f"not reach jax.distributed's shutdown within {distributed.LEAVE_TIMEOUT_S:.0f} s (one "
    "of them has likely stopped or lost its connection).",
    file=sys.stderr,
    flush=True,
  )
  sys.stdout.flush()
  os._exit(status if isinstance(status, int) else FAILURE)


def run(main: Callable[[Sequence[str]], Any]) -> None:
  """`absl.app.run(main)` with one-line errors for bad flags, configs and failed runs."""
  app.run(guarded(main), flags_parser=parse_flags)
