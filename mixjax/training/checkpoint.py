"""Orbax checkpoints of a run: state + where the data stream stands.

A checkpoint holds the host copy of the train state (params, optimizer state,
BatchNorm statistics, step, base key) and a small JSON record (epoch, step). The data
order is a function of (seed, epoch) and the step keys of (base key, step), so these
suffice to resume exactly. Orbax writes each checkpoint to a temporary directory and
renames it when complete, so a killed save leaves no half-checkpoint behind; a
checkpoint that fails to restore (corrupted on disk) is skipped in favour of the
previous good one.
"""

from __future__ import annotations

import hashlib
import logging
import os
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp


def fingerprint(tree: Any) -> str:
  """SHA-256 of every leaf's bytes: detects a checkpoint corrupted after it was written."""
  digest = hashlib.sha256()
  for leaf in jax.tree.leaves(tree):
    digest.update(np.ascontiguousarray(leaf).tobytes())
  return digest.hexdigest()


class Checkpointer:
  """Saves and restores a run's checkpoints under `workdir/checkpoints`.

  Args:
    workdir: the run's directory.
    max_to_keep: how many recent checkpoints to keep (>= 2 so a corrupted newest one
      can fall back to its predecessor).
  """

  def __init__(self, workdir: str, *, max_to_keep: int = 3):
    self.directory = os.path.join(os.path.abspath(workdir), "checkpoints")
    options = ocp.CheckpointManagerOptions(max_to_keep=max(2, max_to_keep), create=True)
    self._manager = ocp.CheckpointManager(self.directory, options=options)

  def save(self, step: int, state: Any, meta: dict[str, Any]) -> None:
    """Saves the host state and the JSON `meta` record at `step` (blocking)."""
    meta = dict(meta, fingerprint=fingerprint(state))
    if step in self._manager.all_steps():  # An unusable leftover of a killed run.
      self._manager.delete(step)
    self._manager.save(
      step,
      args=ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)),
      force=True,
    )
    self._manager.wait_until_finished()

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
    self._manager.close()
