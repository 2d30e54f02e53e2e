"""Multi-process start-up through JAX's own runtime (`jax.distributed`)."""

from __future__ import annotations

import jax
from absl import flags

_DISTRIBUTED = flags.DEFINE_bool(
  "distributed",
  False,
  "Call jax.distributed.initialize (arguments from the flags below, or else from the "
  "environment, e.g. SLURM / Cloud TPU / JAX_COORDINATOR_ADDRESS).",
)
_COORDINATOR = flags.DEFINE_string("coordinator_address", None, "host:port of process 0.")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", None, "Number of processes.")
_PROCESS_ID = flags.DEFINE_integer("process_id", None, "This process's index.")


def initialize(
  coordinator_address: str | None = None,
  num_processes: int | None = None,
  process_id: int | None = None,
) -> None:
  """Joins a multi-process JAX run (CPU processes use gloo collectives)."""
  # CPU processes need a collectives backend to talk to each other; GPUs/TPUs bring theirs.
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(
    coordinator_address=coordinator_address,
    num_processes=num_processes,
    process_id=process_id,
  )


def initialize_from_flags() -> None:
  if _DISTRIBUTED.value:
    initialize(_COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value)
