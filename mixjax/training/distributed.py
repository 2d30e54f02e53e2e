"""Multi-process start-up through JAX's own runtime (`jax.distributed`).

The `--distributed` flags that drive it are defined by the entry points
(`mixjax.training.cli.define_flags`), not here: importing this module registers nothing.
"""

from __future__ import annotations

import jax
from absl import flags


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
  """Calls :func:`initialize` when `--distributed` is set (flags of `cli.define_flags`)."""
  values = flags.FLAGS
  if values.distributed:
    initialize(values.coordinator_address, values.num_processes, values.process_id)
