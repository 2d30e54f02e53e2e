"""Runs the per-device steps of `mixjax.training.step` with `jax.pmap` or `jax.shard_map`."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from mixjax.training import prefetch as prefetch_lib
from mixjax.training.step import AXIS
from mixjax.training.step import StepConfig
from mixjax.training.step import TrainState
from mixjax.training.step import eval_step
from mixjax.training.step import train_step


class DeviceBatch(Mapping):
  """A host batch with its copy already placed on the devices (what `Parallel.prefetch` yields).

  Reads as the host batch (`batch["image"]` is the host array, so code that inspects
  batches sees what it always saw); `Parallel.train` runs on `arrays`, the device copy.

  Attributes:
    host: this process's `[local_batch, ...]` arrays.
    arrays: `Parallel.put_batch(host)`.
  """

  __slots__ = ("arrays", "host")

  def __init__(self, host: dict[str, np.ndarray], arrays: dict[str, jax.Array]):
    self.host = host
    self.arrays = arrays

  def __getitem__(self, name: str) -> np.ndarray:
    return self.host[name]

  def __iter__(self):
    return iter(self.host)

  def __len__(self) -> int:
    return len(self.host)


class Parallel:
  """Runs the per-device steps with `jax.pmap` or `jax.shard_map` over all devices.

  The driver owns the layout: `put_state` / `put_batch` move host data to the
  devices in the layout its steps expect, and `get_state` brings one host copy back.
  Host batches are this process's share `[local_batch, ...]` of the global batch.
  """

  def __init__(self, kind: str, cfg: StepConfig):
    if kind not in ("pmap", "shard_map"):
      raise ValueError(f"`parallel` must be 'pmap' or 'shard_map', got {kind!r}.")
    self.kind = kind
    self.devices = jax.devices()
    self.local_devices = jax.local_devices()
    self.num_devices = len(self.devices)
    train = functools.partial(train_step, cfg=cfg)
    if kind == "pmap":
      self._train = jax.pmap(train, axis_name=AXIS, donate_argnums=(0,), in_axes=(0, 0, None))
      self._eval = jax.pmap(eval_step, axis_name=AXIS)
      self.mesh = None
    else:
      self.mesh = jax.make_mesh(
        (self.num_devices,), (AXIS,), axis_types=(jax.sharding.AxisType.Auto,)
      )
      self._train = jax.jit(
        jax.shard_map(train, mesh=self.mesh, in_specs=(P(), P(AXIS), P()), out_specs=(P(), P())),
        donate_argnums=(0,),
      )
      self._eval = jax.jit(
        jax.shard_map(eval_step, mesh=self.mesh, in_specs=(P(), P(AXIS)), out_specs=P())
      )

  def put_state(self, state: TrainState) -> TrainState:
    """Replicates a host state onto the devices, laid out as the step returns it.

    Matching the step's output layout matters: a state with another layout (e.g. from
    `flax.jax_utils.replicate`) makes the second step compile again.
    """
    if self.kind == "pmap":
      sharding = NamedSharding(self._pmap_mesh(), P(AXIS))
      copies = len(self.local_devices)
      return jax.tree.map(
        lambda x: jax.make_array_from_process_local_data(
          sharding, np.broadcast_to(np.asarray(x), (copies, *np.shape(x)))
        ),
        state,
      )
    sharding = NamedSharding(self.mesh, P())
    return jax.tree.map(
      lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)), state
    )

  def get_state(self, state: TrainState) -> TrainState:
    """One host (NumPy) copy of the replicated state."""
    return jax.tree.map(np.asarray, self._first_copy(state))

  def put_batch(self, batch: dict[str, np.ndarray]) -> dict[str, jax.Array]:
    """Moves this process's `[local_batch, ...]` arrays onto its devices (asynchronously).

    Under pmap each array becomes `[local_devices, local_batch / local_devices, ...]`,
    its leading axis sharded over the devices; under shard_map, the global batch sharded
    over the mesh.
    """
    if self.kind == "pmap":
      n = len(self.local_devices)
      sharding = NamedSharding(self._pmap_mesh(), P(AXIS))
      return jax.tree.map(
        lambda x: jax.make_array_from_process_local_data(
          sharding, np.reshape(x, (n, -1) + np.shape(x)[1:])
        ),
        batch,
      )
    sharding = NamedSharding(self.mesh, P(AXIS))
    return jax.tree.map(lambda x: jax.make_array_from_process_local_data(sharding, x), batch)

  def prefetch(self, batches: Iterable[dict[str, np.ndarray]], *, size: int = 2):
    """Iterates host `batches` as `DeviceBatch`es, `size` of them placed ahead on a thread."""
    return prefetch_lib.prefetch(batches, lambda b: DeviceBatch(b, self.put_batch(b)), size=size)

  def train(self, state, batch, hparams):
    """Runs one train step on a host batch or a `DeviceBatch`; `hparams`: host scalars."""
    hparams = {k: jnp.float32(v) for k, v in hparams.items()}
    arrays = batch.arrays if isinstance(batch, DeviceBatch) else self.put_batch(batch)
    state, metrics = self._train(state, arrays, hparams)
    return state, self._first_copy(metrics)

  def eval(self, state, batch):
    """Runs one eval step and returns its sums as host floats (float64 arrays if not scalar)."""
    sums = self._first_copy(self._eval(state, self.put_batch(batch)))
    return {k: float(v) if np.ndim(v) == 0 else np.asarray(v, np.float64) for k, v in sums.items()}

  def _pmap_mesh(self) -> jax.sharding.Mesh:
    """A 1-D mesh over all devices, laid out as pmap lays out its per-device axis."""
    return jax.sharding.Mesh(
      np.array(self.devices), (AXIS,), axis_types=(jax.sharding.AxisType.Auto,)
    )

  def _first_copy(self, tree):
    """This process's copy of a replicated output (pmap outputs carry a device axis)."""
    if self.kind == "pmap":
      return jax.tree.map(lambda x: x.addressable_data(0)[0], tree)
    return jax.tree.map(lambda x: x.addressable_data(0), tree)
