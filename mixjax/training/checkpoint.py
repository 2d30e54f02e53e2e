"""Orbax checkpoints of a run: state + where the data stream stands.

A checkpoint holds the host copy of the train state (params, optimizer state,
BatchNorm statistics, step, base key) and a small JSON record (epoch, step). The data
order is a function of (seed, epoch) and the step keys of (base key, step), so these
suffice to resume exactly. Orbax writes each checkpoint to a temporary directory and
renames it when complete, so a killed save leaves no half-checkpoint behind; a
checkpoint that fails to restore (corrupted on disk) is skipped in favour of the
previous good one.

A checkpoint that cannot be written (a full disk, an unwritable directory) raises
:class:`CheckpointError` at once: orbax's background threads are shut down first (left
running, they keep the process from exiting, forever). In a multi-process run every
barrier of a save is a collective (:func:`collective_barrier`), so a process that dies
mid-save fails the others' save at once instead of stalling them.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
import threading
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
from jax.experimental import multihost_utils


def fingerprint(tree: Any) -> str:
  """SHA-256 of every leaf's bytes: detects a checkpoint corrupted after it was written."""
  digest = hashlib.sha256()
  for leaf in jax.tree.leaves(tree):
    digest.update(np.ascontiguousarray(leaf).tobytes())
  return digest.hexdigest()


# How long closing orbax's manager may take after a failed save before we stop waiting.
CLOSE_TIMEOUT_SECONDS = 30.0


def collective_barrier(*, key: str, timeout_ms: int) -> None:
  """Orbax's barrier (`AsyncOptions.barrier_sync_fn`) as a collective of every process.

  Orbax's own barrier at the start and end of a save waits at the coordination service,
  which notices a dead process only at its heartbeat timeout (100 s), and then jax aborts
  the survivors. A collective (gloo's TCP pairs on CPUs) fails as soon as a peer's
  connection closes, so a dead peer gives :func:`mixjax.training.distributed.lost_peer`'s
  error at once. The key must be the same on every process (it is hashed and compared).

  Args:
    key: the barrier's name.
    timeout_ms: orbax's timeout; unused (the collective ends when a peer is gone).
  """
  del timeout_ms
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices(key)


class CheckpointError(OSError):
  """A checkpoint could not be written; the message names the directory and the OS error."""


@contextlib.contextmanager
def _quiet_orbax():
  """Orbax logs a failed save as several tracebacks: the one CheckpointError replaces them."""
  logger = logging.getLogger("absl")
  level = logger.level
  logger.setLevel(logging.CRITICAL)
  try:
    yield
  finally:
    logger.setLevel(level)


def _drop_closed_loop_errors() -> None:
  """Silences the "Event loop is closed" errors a failed restore leaves behind.

  When one read of a corrupt checkpoint fails, orbax closes its asyncio loop while
  tensorstore still completes the other reads; each completion then fails to reach the
  closed loop and Python prints it as an unraisable exception (dozens of tracebacks).
  They carry no information: the failed restore is reported once, by `restore_latest`.
  Every other unraisable exception still reaches the previous hook.
  """
  previous = sys.unraisablehook
  if getattr(previous, "_drops_closed_loop_errors", False):
    return

  def hook(unraisable: Any) -> None:
    error = unraisable.exc_value
    if isinstance(error, RuntimeError) and str(error) == "Event loop is closed":
      return
    previous(unraisable)

  hook._drops_closed_loop_errors = True
  sys.unraisablehook = hook


def _root_cause(error: BaseException) -> BaseException:
  """The innermost cause of `error` (orbax wraps the OSError of a failed write)."""
  while error.__cause__ is not None or error.__context__ is not None:
    error = error.__cause__ or error.__context__
  return error


class Checkpointer:
  """Saves and restores a run's checkpoints under `workdir/checkpoints`.

  Args:
    workdir: the run's directory.
    max_to_keep: how many recent checkpoints to keep (>= 2 so a corrupted newest one
      can fall back to its predecessor).
  """

  def __init__(self, workdir: str, *, max_to_keep: int = 3):
    self.directory = os.path.join(os.path.abspath(workdir), "checkpoints")
    options = ocp.CheckpointManagerOptions(
      max_to_keep=max(2, max_to_keep),
      create=True,
      enable_async_checkpointing=False,
      async_options=ocp.AsyncOptions(barrier_sync_fn=collective_barrier),
    )
    self._manager = ocp.CheckpointManager(self.directory, options=options)

  def save(self, step: int, state: Any, meta: dict[str, Any]) -> None:
    """Saves the host state and the JSON `meta` record at `step` (blocking)."""
    meta = dict(meta, fingerprint=fingerprint(state))
    try:
      with _quiet_orbax():
        if step in self._manager.all_steps():  # An unusable leftover of a killed run.
          self._manager.delete(step)
        self._manager.save(
          step,
          args=ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)),
          force=True,
        )
        self._manager.wait_until_finished()
    except Exception as error:  # noqa: BLE001 - any failure: stop the threads, say why.
      self.close()
      cause = _root_cause(error)
      raise CheckpointError(
        f"could not write the checkpoint of step {step} to {self.directory}: "
        f"{type(cause).__name__}: {cause}"
      ) from error

  def restore_latest(self, target: Any) -> tuple[Any, dict[str, Any]] | None:
    """Restores the newest checkpoint that reads back cleanly.

    Args:
      target: a host state with the structure, shapes and dtypes to restore into.

    Returns:
      `(state, meta)`, or None when there is no usable checkpoint.
    """
    for step in sorted(self._manager.all_steps(), reverse=True):
      try:
        restored = self._manager.restore(
          step,
          args=ocp.args.Composite(
            state=ocp.args.StandardRestore(target), meta=ocp.args.JsonRestore()
          ),
        )
      except Exception as error:  # noqa: BLE001 - any failure means "unusable checkpoint".
        _drop_closed_loop_errors()
        logging.warning(
          "Checkpoint at step %d is unreadable (%s); trying an older one.", step, error
        )
        continue
      state, meta = restored["state"], dict(restored["meta"])
      if meta.get("fingerprint") != fingerprint(state):
        logging.warning("Checkpoint at step %d fails its checksum; trying an older one.", step)
        continue
      return state, meta
    return None

  def close(self) -> None:
    """Waits for pending writes and stops orbax's threads (at most CLOSE_TIMEOUT_SECONDS)."""
    manager, self._manager = self._manager, None
    if manager is None:
      return
    closer = threading.Thread(target=_close_quietly, args=(manager,), daemon=True)
    closer.start()
    closer.join(CLOSE_TIMEOUT_SECONDS)


def _close_quietly(manager: ocp.CheckpointManager) -> None:
  with _quiet_orbax(), contextlib.suppress(Exception):
    manager.close()
