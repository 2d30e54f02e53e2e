"""Stopping a run cleanly: SIGTERM / SIGINT requests, the non-finite loss and short epochs.

SIGTERM (what schedulers send before preempting) and SIGINT (Ctrl-C) only set a flag; the
loop looks at it after each train step, saves a checkpoint at that step and raises
:class:`Interrupted`. A second Ctrl-C while the checkpoint is written stops at once.

Several processes must stop at the same step (each saves its part of one checkpoint), but
a signal may reach only one of them. So in a multi-process run the flag is agreed every
`sync_every` steps: each process contributes 0 or 1 to a host all-gather
(`jax.experimental.multihost_utils.process_allgather`, a few bytes) and all stop when
any asked. A single process checks its own flag after every step, at no cost.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import jax
import numpy as np


class Interrupted(Exception):
  """The run stopped on a signal after saving a checkpoint at `step`."""

  def __init__(self, signum: int, epoch: int, step: int, epoch_step: int):
    self.signum, self.epoch, self.step = signum, epoch, step
    name = signal.Signals(signum).name
    super().__init__(
      f"{name}: interrupted at epoch {epoch} step {epoch_step} (global step {step}), "
      "checkpoint saved; rerun the same command to resume."
    )


class Diverged(FloatingPointError):
  """A non-finite train loss; the message names the epoch and the step."""


class ShortEpoch(RuntimeError):
  """The train source yielded fewer batches than `steps_per_epoch` (its contract)."""

  def __init__(self, epoch: int, start_step: int, yielded: int, steps_per_epoch: int):
    super().__init__(
      f"The train source yielded {yielded} batches for epoch {epoch} from step "
      f"{start_step}, expected {steps_per_epoch - start_step} (steps_per_epoch = "
      f"{steps_per_epoch}); the epoch is not recorded. A source must yield exactly "
      "steps_per_epoch batches per epoch (`Source.train_batches`)."
    )


class StopRequests:
  """Collects SIGTERM / SIGINT while installed (a context manager, main thread only).

  Args:
    sync_every: in a multi-process run, steps between the agreements on stopping.
  """

  SIGNALS = (signal.SIGTERM, signal.SIGINT)

  def __init__(self, *, sync_every: int = 10):
    self.signum: int | None = None
    self.sync_every = sync_every
    self._previous: dict[int, Any] = {}

  def _handle(self, signum: int, frame: Any) -> None:
    del frame
    if self.signum is not None and signum == signal.SIGINT:
      raise KeyboardInterrupt  # A second Ctrl-C: stop now.
    self.signum = signum

  def __enter__(self) -> StopRequests:
    if threading.current_thread() is threading.main_thread():
      for signum in self.SIGNALS:
        self._previous[signum] = signal.signal(signum, self._handle)
    return self

  def __exit__(self, *exc: Any) -> None:
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)
    self._previous.clear()

  def should_stop(self, step: int) -> bool:
    """Whether to stop after global train step `step` (agreed by every process)."""
    if jax.process_count() == 1:
      return self.signum is not None
    if step % self.sync_every:
      return False
    from jax.experimental import multihost_utils

    flags = multihost_utils.process_allgather(np.int32(self.signum or 0))
    if self.signum is None and np.any(flags):
      self.signum = int(np.max(flags))
    return bool(np.any(flags))


def diverged(value: float, *, epoch: int, epoch_step: int, global_step: int) -> Diverged:
  """The error of a non-finite loss `value` at 0-based `epoch`, step `epoch_step` in it."""
  return Diverged(
    f"the train loss is {value} at epoch {epoch + 1} step {epoch_step + 1} (global step "
    f"{global_step + 1}): training diverged. The last good checkpoint is kept; lower "
    "config.learning_rate (or check the data) and use a new workdir."
  )
