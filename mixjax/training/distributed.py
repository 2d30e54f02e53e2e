"""Multi-process runs through JAX's own runtime (`jax.distributed`): start-up, the errors
every process must agree on, and leaving a run whose other processes may be gone.

The `--distributed` flags that drive it are defined by the entry points
(`mixjax.training.cli.define_flags`), not here: importing this module registers nothing.
"""

from __future__ import annotations

import threading

import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import flags
from jax.experimental import multihost_utils

# How long a process waits at start-up for the slowest one to finish joining (the
# coordination service's barrier, which, unlike gloo, takes a timeout).
_START_TIMEOUT_MS = 600_000

# How long a failing process waits for the others at jax.distributed's shutdown barrier.
# A process that died never arrives: jax would wait for its heartbeat timeout (100 s) and
# then abort the survivor; one that fails too arrives within seconds.
LEAVE_TIMEOUT_S = 15.0


def initialize(
  coordinator_address: str | None = None,
  num_processes: int | None = None,
  process_id: int | None = None,
) -> None:
  """Joins a multi-process JAX run (CPU processes use gloo collectives).

  After joining, every process meets at a coordination-service barrier and then runs one
  collective, so that the CPU collectives' communicator is built while the processes are
  together, before any of them loads data or compiles. (A two-process test run once failed
  with gloo's 30 s "GetKeyValue() timed out" at its first collective; a 40 s skew before
  the first collective did not reproduce it, so this removes start-up skew as a cause
  rather than a proven one.)
  """
  # CPU processes need a collectives backend to talk to each other; GPUs/TPUs bring theirs.
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(
    coordinator_address=coordinator_address,
    num_processes=num_processes,
    process_id=process_id,
  )
  if jax.process_count() > 1:
    client = ocp.multihost.get_jax_distributed_client()
    client.wait_at_barrier("mixjax_start", timeout_in_ms=_START_TIMEOUT_MS)
    multihost_utils.sync_global_devices("mixjax_collectives_ready")


def initialize_from_flags() -> None:
  """Calls :func:`initialize` when `--distributed` is set (flags of `cli.define_flags`)."""
  values = flags.FLAGS
  if values.distributed:
    initialize(values.coordinator_address, values.num_processes, values.process_id)


def raise_if_any_failed(error: Exception | None, what: str) -> None:
  """Every process stops if one of them failed `what`, instead of the others waiting for it.

  Each process of a multi-process run calls this with the error it met (or None); they
  exchange one flag each (a collective, so every process must call it). The process
  that failed raises its own error; the others raise a :class:`StartError` naming the
  processes that failed. A single process just raises its error, if any.
  """
  failed = []
  if jax.process_count() > 1:
    flags_of = multihost_utils.process_allgather(np.int32(error is not None))
    failed = [int(i) for i in np.flatnonzero(flags_of)]
  if error is not None:
    raise error
  if failed:
    raise StartError(
      f"{what} failed on process {', '.join(map(str, failed))} (see its error); process "
      f"{jax.process_index()} stops too."
    )


# What a collective's error says when the process at the other end is gone (gloo's TCP
# transport on CPUs; jax's coordination service when a heartbeat stopped).
_PEER_GONE = (
  "Connection closed by peer",
  "Connection reset by peer",
  "Broken pipe",
  "heartbeat timeout",
)


def lost_peer(error: BaseException) -> bool:
  """Whether `error` is a multi-process run's collective failing because a peer is gone."""
  return jax.distributed.is_initialized() and any(text in str(error) for text in _PEER_GONE)


def lost_peer_message(error: BaseException) -> str:
  """One line for a :func:`lost_peer` error: what failed and what to do."""
  first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
  return (
    f"process {jax.process_index()} lost another process of the run ({first}); the newest "
    "checkpoint is kept: rerun every process to resume."
  )


def shut_down(timeout_s: float = LEAVE_TIMEOUT_S) -> bool:
  """`jax.distributed.shutdown()`, waited for at most `timeout_s`; whether it finished.

  It runs in a daemon thread, so a process whose peers are gone (they never reach the
  shutdown barrier) can exit without it. True also when no multi-process run was joined;
  False when the shutdown raised or is still waiting.
  """
  if not jax.distributed.is_initialized():
    return True
  finished = threading.Event()
  failed = []

  def shut() -> None:
    try:
      jax.distributed.shutdown()
    except Exception as error:  # noqa: BLE001 - reported to the caller as "did not finish".
      failed.append(error)
    finally:
      finished.set()

  threading.Thread(target=shut, name="mixjax-shutdown", daemon=True).start()
  return finished.wait(timeout_s) and not failed


class StartError(RuntimeError):
  """Another process of the run failed at start-up; the message is one line."""
