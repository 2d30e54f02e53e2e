"""Times mixjax's ops against a jitted copy, a NumPy host implementation, timm and torchvision.

Everything runs in one process on the CPU. For each batch size the rows are warmed up, then
timed in interleaved rounds (every row runs a few calls per round, in an order shuffled
afresh each round with a fixed seed) so that drift from other processes hits all rows alike
and no row always follows the same neighbour (in a fixed order, a row that always runs
right after a heavy one can be slowed every round); the table gives the median time per
call (and the fastest call, which other processes on shared cores disturb least), the
effective bandwidth `2 × image bytes / time` (read once, written once, as for a copy) and
the ratio to the jitted copy of the same batch measured in the same run.

JAX rows are jitted, with `mode`/`pairing` static and a fresh, pre-split key for every
call; their output is waited for with `block_until_ready`. Peer rows use their library as
documented: timm's `Mixup` mixes NCHW torch tensors in place and builds the targets from
class indices; torchvision's `v2.MixUp` / `v2.CutMix` return new tensors. A peer whose
package is missing is skipped with a note.

A second section times a small conv forward with and without an op in front of it, inside
one jitted function, and a third gives each op's compiled memory (XLA's
`memory_analysis()`) in units of one image batch.

Usage:
  python benchmarks/bench_ops.py                      # both sizes, default repetitions
  python benchmarks/bench_ops.py --quick              # smoke run, a few repetitions
  python benchmarks/bench_ops.py --sizes cifar --reps 500 --out benchmarks/results_ops.md
  python benchmarks/bench_ops.py --malloc no-faults   # see below
  python benchmarks/bench_ops.py --sizes imagenet --rows random_erasing,gridmask  # a few rows

Page faults. Every row allocates its output, and glibc malloc serves an ImageNet-size batch
(73.5 MiB) with a fresh `mmap` that the kernel faults in on first touch, 4 KiB at a time
unless transparent huge pages apply; on a small VM that can cost as much as moving the
data. Raising the mmap threshold alone does not help XLA's fusions (their outputs still
fault; they appear to be allocated on a worker thread, whose malloc arena cannot hold a
block that size: a non-main arena's heap is at most 64 MiB); NumPy asks for huge pages on
large arrays and faults far less. The `faults/call` column shows what each row paid.
`--malloc` re-executes the benchmark with a fixed setting, stated in the header:

* `inherit` (default): the environment as given (glibc's defaults unless set).
* `threshold`: `MALLOC_MMAP_THRESHOLD_` and `MALLOC_TRIM_THRESHOLD_` = 4 GiB (an explicit
  mmap threshold alone keeps the 128 KiB trim threshold, and a freed batch at the top of
  the heap is then given back and faulted in again).
* `no-faults`: `GLIBC_TUNABLES` with one arena, the 4 GiB thresholds and huge pages for
  malloc's own memory (`glibc.malloc.hugetlb=1`); measured here to take the faults out of
  every row, which leaves the data movement.

Cores. XLA:CPU splits a large enough fusion over its worker threads, one per core; on this
VM waking a worker on the other core costs about as much as a CIFAR-size op (the README's
CIFAR table: mixjax's rows take 1.3-3.5× longer on 2 cores than pinned to one), so at CIFAR
size the median of a row on 2 cores mostly counts thread wake-ups, and rows with more
fusions pay more of them. `--cores 1` pins the process to one core (the header says which),
the setting of one training process per core; the report states the cores used.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gc
import importlib.metadata
import importlib.util
import inspect
import math
import os
import pathlib
import platform
import random
import resource
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

_MALLOC_VARS = (
  "MALLOC_MMAP_THRESHOLD_",
  "MALLOC_TRIM_THRESHOLD_",
  "MALLOC_TOP_PAD_",
  "MALLOC_MMAP_MAX_",
  "MALLOC_ARENA_MAX",
  "GLIBC_TUNABLES",
)
_THREAD_VARS = (
  "XLA_FLAGS",
  "OMP_NUM_THREADS",
  "OMP_WAIT_POLICY",
  "MKL_NUM_THREADS",
  "OPENBLAS_NUM_THREADS",
)


@dataclasses.dataclass(frozen=True)
class Size:
  """A benchmark batch: `[batch, height, width, 3]` float32 images, `[batch, classes]` labels."""

  name: str
  batch: int
  height: int
  width: int
  classes: int
  default_reps: int
  quick_reps: int
  # The stand-in forward pass: a `kernel × kernel` conv with this stride to `features`.
  kernel: int
  stride: int
  features: int
  # Also time `apply_mix` on pre-sampled parameters (the reference of the sampling cost).
  presampled: bool = False

  @property
  def image_shape(self) -> tuple[int, int, int, int]:
    return (self.batch, self.height, self.width, 3)

  @property
  def image_bytes(self) -> int:
    return math.prod(self.image_shape) * 4


SIZES = {
  "cifar": Size(
    "cifar", 128, 32, 32, 10, 400, 20, kernel=3, stride=1, features=32, presampled=True
  ),
  "imagenet": Size("imagenet", 128, 224, 224, 1000, 40, 4, kernel=8, stride=8, features=64),
}


@dataclasses.dataclass
class Row:
  """One timed thing.

  Attributes:
    section: "op" (the op alone) or "graph" (a forward pass with or without an op).
    impl: who implements it: "XLA", "mixjax", "NumPy", "timm" or "torchvision".
    name: what it does, e.g. "mixup elem/permute".
    op: the comparable operation, e.g. ("mixup", "elem"), used to check the targets.
    call: runs call number `i` to completion (results are discarded).
    memory: compiled memory statistics (JAX rows only).
    times: seconds per timed call.
    faults: minor page faults per timed call.
  """

  section: str
  impl: str
  name: str
  op: tuple[str, str] | None
  call: Callable[[int], Any]
  memory: Any = None
  times: list[float] = dataclasses.field(default_factory=list)
  faults: list[int] = dataclasses.field(default_factory=list)

  @property
  def median(self) -> float:
    return statistics.median(self.times)


_FOUR_GIB = str(4 << 30)
MALLOC_SETTINGS = {
  "inherit": {},
  "threshold": {"MALLOC_MMAP_THRESHOLD_": _FOUR_GIB, "MALLOC_TRIM_THRESHOLD_": _FOUR_GIB},
  "no-faults": {
    "GLIBC_TUNABLES": ":".join(
      [
        "glibc.malloc.hugetlb=1",
        "glibc.malloc.arena_max=1",
        f"glibc.malloc.mmap_threshold={_FOUR_GIB}",
        f"glibc.malloc.trim_threshold={_FOUR_GIB}",
      ]
    )
  },
}


def _maybe_reexec(setting: str) -> None:
  """Re-executes this script under a malloc setting, unless it already runs under it."""
  wanted = MALLOC_SETTINGS[setting]
  if all(os.environ.get(k) == v for k, v in wanted.items()):
    return
  print(f"Re-executing with {' '.join(f'{k}={v}' for k, v in wanted.items())}", flush=True)
  os.execve(sys.executable, [sys.executable, *sys.argv], dict(os.environ, **wanted))


def _has(module: str) -> bool:
  return importlib.util.find_spec(module) is not None


def _cpu_model() -> str:
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or "unknown"


def _faults() -> int:
  return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def environment_lines(malloc_setting: str, *, torch_peers: bool = True) -> list[str]:
  """The machine, versions, thread counts and malloc settings, as markdown lines.

  With `torch_peers=False` (a benchmark without torch rows) torch is not imported: its
  version comes from the package metadata. Importing a CUDA build of torch (its triton)
  into a process that already holds jaxlib and TensorFlow can crash it, as in a test
  worker of a machine with the `bench` extras.
  """
  import jax
  import jaxlib
  import numpy as np

  versions = {
    "python": platform.python_version(),
    "jax": jax.__version__,
    "jaxlib": jaxlib.__version__,
    "numpy": np.__version__,
  }
  torch_threads = "torch not installed" if torch_peers else "torch not used"
  for name in ("torch", "timm", "torchvision"):
    if not _has(name):
      versions[name] = "not installed"
    elif torch_peers:
      versions[name] = __import__(name).__version__
    else:
      versions[name] = importlib.metadata.version(name)
  if torch_peers and _has("torch"):
    import torch

    torch_threads = (
      f"torch.get_num_threads()={torch.get_num_threads()}, "
      f"get_num_interop_threads()={torch.get_num_interop_threads()}"
    )
  affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
  env = lambda names: ", ".join(f"{n}={os.environ.get(n, '(unset)')}" for n in names)
  malloc = f"--malloc {malloc_setting}: " + env(_MALLOC_VARS)
  if not any(os.environ.get(n) for n in _MALLOC_VARS):
    malloc += " (glibc defaults: dynamic mmap threshold, 128 KiB .. 32 MiB)"
  load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
  return [
    "## Environment",
    "",
    f"- machine: {platform.platform()}; CPU: {_cpu_model()}; "
    f"os.cpu_count()={os.cpu_count()}, usable cores={affinity}",
    "- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
    f"- JAX devices: {jax.devices()}",
    f"- threads: {torch_threads}; {env(_THREAD_VARS)}",
    f"- malloc: {malloc}",
    f"- load average at start (1, 5, 15 min): {load}"
    " (the cores may be shared with other processes)",
    f"- command: `{shlex.join([os.path.basename(sys.executable), *sys.argv])}`",
  ]


# --------------------------------------------------------------------------------------
# Rows.


def _data(size: Size, seed: int = 0):
  import numpy as np

  rng = np.random.default_rng(seed)
  images = rng.random(size.image_shape, dtype=np.float32)
  classes = rng.integers(0, size.classes, size.batch)
  one_hot = np.eye(size.classes, dtype=np.float32)[classes]
  return images, classes, one_hot


def _jax_row(section, impl, name, op, fn, args, keys):
  """A row calling `jax.jit(fn)(keys[i], *args)` (or `fn(*args)` without keys)."""
  import jax

  jitted = jax.jit(fn)
  full_args = (keys[0], *args) if keys is not None else args
  memory = jitted.lower(*full_args).compile().memory_analysis()
  if keys is None:
    call = lambda i: jax.block_until_ready(jitted(*args))
  else:
    call = lambda i: jax.block_until_ready(jitted(keys[i], *args))
  return Row(section, impl, name, op, call, memory)


def _image_op_fn(op: Callable, **kwargs) -> Callable:
  """Wraps an op as `fn(key, images, labels)`; image-only ops (erasing, GridMask) drop labels."""
  if "labels" in inspect.signature(op).parameters:
    return lambda key, x, y: op(key, x, y, **kwargs)
  return lambda key, x, y: op(key, x, **kwargs)


# Every pairing: permute (a gather), flip (a reversed read), roll (the example read just before).
PAIRINGS = ("permute", "flip", "roll")


def _mix_rows(op_names: tuple[str, ...]):
  """`(op, mode, pairing)` of the timed mixing rows: every mode and pairing, but no
  mixup_or_cutmix with flip."""
  for op_name in op_names:
    for mode in ("batch", "elem"):
      for pairing in PAIRINGS:
        if not (op_name == "mixup_or_cutmix" and pairing == "flip"):
          yield op_name, mode, pairing


def _mix_specs() -> list[tuple[str, Callable]]:
  """The mixing ops with their samplers: `(row name, sample(key, batch, image_size))`."""
  import mixjax

  samplers = {
    "mixup": lambda key, b, hw, **kw: mixjax.sample_mixup_params(key, b, **kw),
    "cutmix": mixjax.sample_cutmix_params,
    "mixup_or_cutmix": mixjax.sample_mixup_or_cutmix_params,
  }
  specs = []
  for op_name, mode, pairing in _mix_rows(tuple(samplers)):
    sample = functools.partial(samplers[op_name], mode=mode, pairing=pairing)
    specs.append((f"{op_name} {mode}/{pairing}", sample))
  return specs


def _op_specs() -> list[tuple[str, tuple[str, str] | None, Callable]]:
  """The mixjax ops alone: `(row name, comparable op or None, fn(key, x, y))`."""
  import mixjax

  specs = []
  for op_name, mode, pairing in _mix_rows(("mixup", "cutmix", "mixup_or_cutmix")):
    fn = _image_op_fn(getattr(mixjax, op_name), mode=mode, pairing=pairing)
    comparable = (op_name, mode) if pairing == "permute" else None
    specs.append((f"{op_name} {mode}/{pairing}", comparable, fn))
  specs.append(("random_erasing", ("random_erasing", ""), _image_op_fn(mixjax.random_erasing)))
  erase_zero = _image_op_fn(mixjax.random_erasing, value=0.0)
  specs.append(("random_erasing value=0", ("random_erasing", "value=0"), erase_zero))
  specs.append(("gridmask", ("gridmask", ""), _image_op_fn(mixjax.gridmask)))
  specs += _issue11_specs()
  return specs


def _issue11_specs() -> list[tuple[str, tuple[str, str] | None, Callable]]:
  """FMix, ResizeMix and the timm knobs (cutmix_minmax, probability)."""
  import mixjax

  specs = []
  for op_name in ("fmix", "resizemix"):
    for mode in ("batch", "elem"):
      fn = _image_op_fn(getattr(mixjax, op_name), mode=mode)
      specs.append((f"{op_name} {mode}/permute", (op_name, mode), fn))
  linear = _image_op_fn(mixjax.resizemix, mode="elem", method="linear")
  specs.append(("resizemix elem/permute linear", ("resizemix", "linear"), linear))
  minmax = _image_op_fn(mixjax.cutmix, mode="elem", cutmix_minmax=(0.2, 0.8))
  specs.append(("cutmix elem/permute cutmix_minmax", ("cutmix", "minmax"), minmax))
  maybe = _image_op_fn(mixjax.mixup_or_cutmix, mode="elem", probability=0.5)
  specs.append(("mixup_or_cutmix elem/permute p=0.5", ("mixup_or_cutmix", "p=0.5"), maybe))
  return specs


_GRAPH_OPS = [
  ("mixup", "batch", "permute"),
  ("mixup", "elem", "permute"),
  ("mixup", "batch", "flip"),
  ("cutmix", "batch", "permute"),
  ("cutmix", "elem", "permute"),
  ("mixup_or_cutmix", "elem", "permute"),
]


def _selected(name: str, only: list[str] | None) -> bool:
  return only is None or any(pattern in name for pattern in only)


BLEND_ROW = "jitted a·s + b·(1−s) (two batches)"
GATHER_ROW = "jitted nearest-resize gather (every pixel)"
# The ops whose ImageNet target line also gives their ratio to a reference row's.
_FLOORS = {"mixup ": (("blend", ""), "two-batch blend"), "resizemix ": (("gather", ""), "gather")}


def reference_rows(size: Size, notes: list[str]) -> list[Row]:
  """The jitted copy of the batch (the reference of every ratio), a jitted `x·s`, a blend
  of two distinct batches (the bytes every blend moves: mixup's floor) and ResizeMix's
  gather alone."""
  import jax
  import jax.numpy as jnp

  x = jnp.asarray(_data(size)[0])
  copy = _jax_row("op", "XLA", "jitted copy (reference)", ("copy", ""), lambda x: x + 0, (x,), None)
  if jax.jit(lambda x: x + 0)(x).unsafe_buffer_pointer() == x.unsafe_buffer_pointer():
    notes.append(f"{size.name}: WARNING the jitted copy returned its input buffer.")
  scale = _jax_row(
    "op",
    "XLA",
    "jitted x·s (loop fusion)",
    ("scale", ""),
    lambda x, s: x * s,
    (x, jnp.float32(1)),
    None,
  )
  other = jnp.asarray(_data(size, seed=1)[0])
  blend = _jax_row(
    "op",
    "XLA",
    BLEND_ROW,
    ("blend", ""),
    lambda a, b, s: a * s + b * (1 - s),
    (x, other, jnp.float32(0.3)),
    None,
  )
  gather = _jax_row(
    "op",
    "XLA",
    GATHER_ROW,
    ("gather", ""),
    _nearest_gather,
    (x, jnp.int32(round(0.7 * size.image_shape[1]))),
    None,
  )
  return [copy, scale, blend, gather]


def _nearest_gather(x, side):
  """Every pixel of `x` `[B, H, W, C]` gathered from the nearest resize of its own image to
  sides `side` (a traced int) placed at the origin, clamped past it: ResizeMix's gather
  (`mixjax._resizemix._nearest_into_box`), with no box select, so its cost alone."""
  import jax.numpy as jnp

  from mixjax import _resizemix

  own = jnp.arange(x.shape[0], dtype=jnp.int32)
  return _resizemix._nearest_into_box(x, own, jnp.stack([0, 0, side, side]))


def jax_rows(size: Size, keys, notes: list[str], only: list[str] | None = None) -> list[Row]:
  """The mixjax ops alone, each jitted with a fresh key per call."""
  import jax.numpy as jnp

  images, _, one_hot = _data(size)
  x, y = jnp.asarray(images), jnp.asarray(one_hot)
  rows = []
  for name, op, fn in _op_specs():
    if not _selected(name, only):
      continue
    try:
      rows.append(_jax_row("op", "mixjax", name, op, fn, (x, y), keys))
    except Exception as e:  # noqa: BLE001 - an op under development must not stop the run.
      notes.append(f"{size.name}: mixjax {name} failed and was skipped: {type(e).__name__}: {e}")
  return rows


def presampled_rows(size: Size, only: list[str] | None = None) -> list[Row]:
  """`apply_mix` on parameters sampled once, outside the timed call: each mixing op minus
  its sampling (row `apply_mix <op>`; the op's `× pre-sampled` column divides by it)."""
  import jax
  import jax.numpy as jnp

  import mixjax

  if not size.presampled:
    return []
  images, _, one_hot = _data(size)
  x, y = jnp.asarray(images), jnp.asarray(one_hot)
  rows = []
  for name, sample in _mix_specs():
    if not _selected(name, only):
      continue
    params = sample(jax.random.key(0), size.batch, (size.height, size.width))
    fn = lambda x, y, params: mixjax.apply_mix(x, y, params)
    rows.append(
      _jax_row("op", "mixjax", f"apply_mix {name}", ("applied", name), fn, (x, y, params), None)
    )
  return rows


def graph_rows(size: Size, keys, only: list[str] | None = None) -> list[Row]:
  """A small conv forward on the batch, alone and with an op in front, in one jitted function."""
  import jax
  import jax.numpy as jnp
  import numpy as np

  import mixjax

  names = [f"forward + {op} {mode}/{pairing}" for op, mode, pairing in _GRAPH_OPS]
  if not any(_selected(name, only) for name in names):
    return []
  images, _, one_hot = _data(size)
  rng = np.random.default_rng(1)
  kernel = rng.normal(size=(size.kernel, size.kernel, 3, size.features)) / size.kernel
  readout = rng.normal(size=(size.features, size.classes))
  args = tuple(jnp.asarray(a, jnp.float32) for a in (images, one_hot, kernel, readout))

  def forward(x, y, kernel, readout):
    h = jax.lax.conv_general_dilated(
      x, kernel, (size.stride, size.stride), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    logits = jnp.mean(jax.nn.relu(h), axis=(1, 2)) @ readout
    return jnp.sum(logits * y)  # Uses both outputs of the op; a stand-in for a loss.

  alone = lambda key, x, y, k, r: forward(x, y, k, r)
  rows = [_jax_row("graph", "mixjax", "forward alone", ("forward", ""), alone, args, keys)]
  for name, (op_name, mode, pairing) in zip(names, _GRAPH_OPS, strict=True):
    if not _selected(name, only):
      continue
    op = functools.partial(getattr(mixjax, op_name), mode=mode, pairing=pairing)

    def mixed_forward(key, x, y, k, r, op=op):
      return forward(*op(key, x, y), k, r)

    rows.append(_jax_row("graph", "mixjax", name, (op_name, mode), mixed_forward, args, keys))
  return rows


def numpy_rows(size: Size, only: list[str] | None = None) -> list[Row]:
  """The NumPy host implementation (`numpy_ref.py`), drawing from `np.random.default_rng`."""
  import numpy as np

  spec = importlib.util.spec_from_file_location(
    "numpy_ref", pathlib.Path(__file__).with_name("numpy_ref.py")
  )
  numpy_ref = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(numpy_ref)
  images, _, one_hot = _data(size)
  rng = np.random.default_rng(2)
  rows = []
  for op_name in ("mixup", "cutmix"):
    for mode in ("batch", "elem"):
      op = functools.partial(getattr(numpy_ref, op_name), rng, images, one_hot, mode=mode)
      name = f"{op_name} {mode}/permute"
      if _selected(name, only):
        rows.append(Row("op", "NumPy", name, (op_name, mode), lambda i, op=op: op()))
  return rows


def _torch_batch(size: Size, packages: tuple[str, ...], notes: list[str]):
  """The benchmark batch as NCHW torch images and class-index targets, or None (with a note)
  when one of `packages` is missing."""
  missing = [p for p in packages if not _has(p)]
  if missing:
    notes.append(f"{' and '.join(missing)} not installed: {packages[0]} rows skipped.")
    return None
  import torch

  images, classes, _ = _data(size)
  return torch.from_numpy(images.transpose(0, 3, 1, 2).copy()), torch.from_numpy(classes)


def timm_rows(size: Size, notes: list[str], only: list[str] | None = None) -> list[Row]:
  """timm's `Mixup`, in place on an NCHW CPU tensor, with class-index targets."""
  variants = {
    "mixup": {"mixup_alpha": 1.0, "cutmix_alpha": 0.0},
    "cutmix": {"mixup_alpha": 0.0, "cutmix_alpha": 1.0},
    "mixup_or_cutmix": {"mixup_alpha": 1.0, "cutmix_alpha": 1.0, "switch_prob": 0.5},
  }
  names = {
    (op, mode): f"{op} {mode}/flip (in place)" for op in variants for mode in ("batch", "elem")
  }
  names = {k: v for k, v in names.items() if _selected(v, only)}
  batch = _torch_batch(size, ("timm", "torch"), notes) if names else None
  if batch is None:
    return []
  from timm.data import Mixup

  x, target = batch
  rows = []
  for (op_name, mode), name in names.items():
    mix = Mixup(**variants[op_name], mode=mode, label_smoothing=0.0, num_classes=size.classes)
    rows.append(Row("op", "timm", name, (op_name, mode), lambda i, mix=mix: mix(x, target)))
  return rows


def torchvision_rows(size: Size, notes: list[str], only: list[str] | None = None) -> list[Row]:
  """torchvision's `transforms.v2.MixUp` and `CutMix` (one λ per batch, partner = roll by 1)."""
  names = {"mixup": "MixUp batch/roll", "cutmix": "CutMix batch/roll"}
  names = {k: v for k, v in names.items() if _selected(v, only)}
  batch = _torch_batch(size, ("torchvision", "torch"), notes) if names else None
  if batch is None:
    return []
  from torchvision.transforms import v2

  x, target = batch
  rows = []
  for op_name, name in names.items():
    transform = getattr(v2, name.split()[0])(alpha=1.0, num_classes=size.classes)
    rows.append(
      Row("op", "torchvision", name, (op_name, "batch"), lambda i, t=transform: t(x, target))
    )
  return rows


def issue11_peer_rows(size: Size, notes: list[str], only: list[str] | None = None) -> list[Row]:
  """The PyPI `mixup` package's FMix and ResizeMix (one mask or box per batch) and kornia's
  `RandomMixUpV2` / `RandomCutMixV2` (per example), on NCHW CPU tensors."""
  rows = []
  batch = _torch_batch(size, ("mixup", "torch"), notes)
  if batch is not None:
    import mixup
    import torch

    x, target = batch
    y = torch.nn.functional.one_hot(target, size.classes).float()
    for cls, op_name in ((mixup.FMix, "fmix"), (mixup.ResizeMix, "resizemix")):
      name = f"{cls.__name__} batch/permute"
      if _selected(name, only):
        mix = cls(alpha=1.0)
        rows.append(Row("op", "mixup (PyPI)", name, (op_name, "batch"), lambda i, m=mix: m(x, y)))
  batch = _torch_batch(size, ("kornia", "torch"), notes)
  if batch is not None:
    from kornia import augmentation

    x, target = batch
    for cls, op_name, extra in (
      (augmentation.RandomMixUpV2, "mixup", {}),
      (augmentation.RandomCutMixV2, "cutmix", {"use_correct_lambda": True}),
    ):
      name = f"{cls.__name__} elem/permute"
      if _selected(name, only):
        mix = cls(p=1.0, data_keys=["input", "class"], **extra)
        rows.append(Row("op", "kornia", name, (op_name, "elem"), lambda i, m=mix: m(x, target)))
  return rows


# --------------------------------------------------------------------------------------
# Timing.


def measure(rows: list[Row], reps: int, rounds: int, warmup: int) -> None:
  """Times `reps` calls of every row, interleaved over `rounds` rounds in shuffled orders."""
  for row in rows:
    for i in range(warmup):
      row.call(i)
  per_round = max(1, math.ceil(reps / rounds))
  calls = warmup
  order = random.Random(0)
  for _ in range(rounds):
    gc.collect()
    gc.disable()
    try:
      for row in order.sample(rows, len(rows)):
        for j in range(per_round):
          faults = _faults()
          start = time.perf_counter()
          row.call(calls + j)
          row.times.append(time.perf_counter() - start)
          row.faults.append(_faults() - faults)
    finally:
      gc.enable()
    calls += per_round


# --------------------------------------------------------------------------------------
# Report.


def _fmt_time(seconds: float) -> str:
  return f"{seconds * 1e3:.3f}" if seconds < 1 else f"{seconds * 1e3:.0f}"


def _table(
  title: str, columns: list[str], body: list[list[str]], text_columns: int = 1
) -> list[str]:
  """A markdown table under a `###` title; the first `text_columns` columns are left-aligned."""
  align = ["---"] * text_columns + ["---:"] * (len(columns) - text_columns)
  line = lambda cells: "| " + " | ".join(cells) + " |"
  return [f"### {title}", "", line(columns), line(align)] + [line(cells) for cells in body]


def op_table(size: Size, rows: list[Row]) -> list[str]:
  copy = next(r for r in rows if r.op == ("copy", "")).median
  applied = {r.op[1]: r.median for r in rows if r.op and r.op[0] == "applied"}
  body = []
  for row in (r for r in rows if r.section == "op"):
    reference = applied.get(row.name) if row.impl == "mixjax" else None
    q = statistics.quantiles(row.times, n=4) if len(row.times) > 1 else [row.median] * 3
    body.append(
      [row.impl, row.name, _fmt_time(row.median), f"{_fmt_time(q[0])}–{_fmt_time(q[2])}"]
      + [_fmt_time(min(row.times)), f"{2 * size.image_bytes / row.median / 1e9:.1f}"]
      + [f"{row.median / copy:.2f}", f"{statistics.median(row.faults):.0f}"]
      + [f"{row.median / reference:.2f}" if reference else ""]
    )
  title = (
    f"{size.name}: {size.image_shape} float32 images ({size.image_bytes / 2**20:.1f} MiB),"
    f" [{size.batch}, {size.classes}] labels"
  )
  columns = ["impl", "row", "median ms", "p25–p75 ms", "min ms", "GB/s", "× copy", "faults/call"]
  columns.append("× pre-sampled")
  return _table(title, columns, body, text_columns=2)


def graph_table(size: Size, rows: list[Row]) -> list[str]:
  graph = [r for r in rows if r.section == "graph"]
  if not graph:
    return []
  base, base_min = graph[0].median, min(graph[0].times)
  body = []
  for row in graph:
    added, fastest = row.median - base, min(row.times)
    body.append(
      [row.name, _fmt_time(row.median), f"{added * 1e6:+.0f}", f"{added / base * 100:+.1f}"]
      + [_fmt_time(fastest), f"{(fastest - base_min) * 1e6:+.0f}"]
      + [f"{row.memory.temp_size_in_bytes / size.image_bytes:.2f}"]
    )
  title = (
    f"{size.name}: forward pass ({size.kernel}×{size.kernel} conv, stride {size.stride}, "
    f"3→{size.features} features, ReLU, mean pool, readout · labels) with an op in front"
  )
  columns = ["jitted function", "median ms", "added µs", "added %", "min ms", "added µs (min)"]
  return _table(title, columns + ["temp / batch"], body)


def memory_table(size: Size, rows: list[Row]) -> list[str]:
  body = []
  for row in rows:
    if row.section == "op" and row.memory is not None:
      m, b = row.memory, size.image_bytes
      sizes = (m.argument_size_in_bytes, m.output_size_in_bytes, m.alias_size_in_bytes)
      body.append([row.name] + [f"{n / b:.3f}" for n in (*sizes, m.temp_size_in_bytes)])
  title = (
    f"{size.name}: compiled memory, in units of one image batch"
    f" ({size.image_bytes / 2**20:.1f} MiB)"
  )
  return _table(title, ["row", "arguments", "outputs", "aliased", "temporaries"], body)


def _find(rows: list[Row], impl: str, op: tuple[str, str], section: str = "op") -> Row | None:
  return next((r for r in rows if r.impl == impl and r.op == op and r.section == section), None)


def _copy_target_lines(rows: list[Row], verdict: Callable[[bool], str]) -> list[str]:
  """ImageNet size: every mixjax op ≤ 1.25× the jitted copy, the default (noise) erasing
  ≤ 2×."""
  copy = _find(rows, "XLA", ("copy", "")).median
  lines = []
  for row in rows:
    if row.impl != "mixjax" or row.section != "op" or row.name.startswith("apply_mix "):
      continue
    target = 2.0 if row.name == "random_erasing" else 1.25
    ratio = row.median / copy
    floor = _floor_note(rows, row, copy)
    lines.append(
      f"- imagenet, mixjax {row.name}: {ratio:.2f}× copy{floor} (target ≤ {target}×):"
      f" {verdict(ratio <= target)}"
    )
  return lines


def _floor_note(rows: list[Row], row: Row, copy: float) -> str:
  """` (0.98× the two-batch blend's 1.38×)` for an op with a reference floor, else ``."""
  for prefix, (op, what) in _FLOORS.items():
    reference = _find(rows, "XLA", op)
    if reference is not None and row.name.startswith(prefix):
      return f" ({row.median / reference.median:.2f}× the {what}'s {reference.median / copy:.2f}×)"
  return ""


def _presampled_target_lines(
  size_name: str, rows: list[Row], verdict: Callable[[bool], str]
) -> list[str]:
  """Each mixing op (sampling included) ≤ 1.5× `apply_mix` on pre-sampled parameters."""
  applied = {r.op[1]: r for r in rows if r.op and r.op[0] == "applied"}
  lines = []
  for row in rows:
    if row.impl == "mixjax" and row.section == "op" and row.name in applied:
      ratio = row.median / applied[row.name].median
      best = min(row.times) / min(applied[row.name].times)
      lines.append(
        f"- {size_name}, mixjax {row.name}: {ratio:.2f}× apply_mix pre-sampled (medians;"
        f" {best:.2f}× by the fastest calls) (target ≤ 1.5×): {verdict(ratio <= 1.5)}"
      )
  return lines


def target_lines(results: dict[str, list[Row]]) -> list[str]:
  """Checks the targets of the issue against the measured rows."""
  lines = ["## Targets", ""]

  def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"

  modes = [("mixup", "batch"), ("mixup", "elem"), ("cutmix", "batch"), ("cutmix", "elem")]
  if "imagenet" in results:
    lines += _copy_target_lines(results["imagenet"], verdict)
  for size_name, rows in results.items():
    lines += _presampled_target_lines(size_name, rows, verdict)
  all_modes = modes + [("mixup_or_cutmix", "batch"), ("mixup_or_cutmix", "elem")]
  for size_name, rows in results.items():
    for op in all_modes:
      ours = _find(rows, "mixjax", op)
      if ours is None:
        continue
      for peer in ("NumPy", "timm"):
        if peer == "NumPy" and size_name != "cifar":
          continue
        theirs = _find(rows, peer, op)
        if theirs is None:
          continue
        speedup = theirs.median / ours.median
        best = min(theirs.times) / min(ours.times)
        lines.append(
          f"- {size_name}, {op[0]} {op[1]}: mixjax (permute) {speedup:.2f}× faster than"
          f" {peer} (medians; {best:.2f}× by the fastest calls): {verdict(speedup > 1)}"
        )
  for size_name, rows in results.items():
    ours = [r for r in rows if r.section == "op" and r.impl == "mixjax"]
    if not ours:
      continue
    worst = max(ours, key=lambda r: r.memory.temp_size_in_bytes)
    size = SIZES[size_name]
    ratio = worst.memory.temp_size_in_bytes / size.image_bytes
    lines.append(
      f"- {size_name}: largest temporary of a mixjax op: {ratio:.3f} batch"
      f" ({worst.name}) (target ≤ 1): {verdict(ratio <= 1)}"
    )
  return lines


def scaling_lines(results: dict[str, list[Row]]) -> list[str]:
  if not {"cifar", "imagenet"} <= results.keys():
    return []
  small = _find(results["cifar"], "XLA", ("copy", "")).median
  large = _find(results["imagenet"], "XLA", ("copy", "")).median
  bytes_ratio = SIZES["imagenet"].image_bytes / SIZES["cifar"].image_bytes
  return [
    f"- The jitted copy takes {large / small:.0f}× longer on the {bytes_ratio:.0f}× larger"
    " batch: it really moves the data (and its output buffer is not its input's)."
  ]


def small_parser(doc: str, *, reps: int, rounds: int) -> argparse.ArgumentParser:
  """The flags of the small benchmarks (noise fill, words): reps, rounds, malloc, cores, out."""
  parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
  parser.add_argument("--reps", type=int, default=reps)
  parser.add_argument("--rounds", type=int, default=rounds)
  parser.add_argument("--malloc", choices=sorted(MALLOC_SETTINGS), default="inherit")
  parser.add_argument("--cores", type=int, default=None)
  parser.add_argument("--out", default=None, help="also write the markdown report here")
  return parser


def start(args: argparse.Namespace) -> None:
  """Re-executes under `args.malloc` and pins `args.cores`, before JAX starts."""
  _maybe_reexec(args.malloc)
  _pin_cores(args.cores)


def report(lines: list[str], out: str | None) -> None:
  """Prints the report, and writes it to `out` when given."""
  print("\n".join(lines), flush=True)
  if out:
    pathlib.Path(out).write_text("\n".join(lines) + "\n")


def copy_ratio_table(title: str, timed: list[Row]) -> list[str]:
  """A small benchmark's table: each row's median and min, and its ratio to the first row."""
  copy = timed[0].median
  body = [
    [r.name, _fmt_time(r.median), _fmt_time(min(r.times)), f"{r.median / copy:.2f}"] for r in timed
  ]
  return _table(title, ["row", "median ms", "min ms", "× copy"], body)


def per_size_main(
  argv: list[str] | None,
  doc: str,
  heading: str,
  rows: Callable[[Size, list[Any]], list[Row]],
  title: Callable[[Size], str],
) -> None:
  """The main of a small benchmark timed per batch size (`--sizes`, default imagenet).

  Args:
    argv: the command line (None: `sys.argv`).
    doc: the module docstring (its first paragraph is the help text).
    heading: the report's first line.
    rows: `rows(size, keys)`, the rows of one size, the jitted copy first.
    title: `title(size)`, the size's table title.
  """
  parser = small_parser(doc, reps=40, rounds=8)
  parser.add_argument("--sizes", default="imagenet", help="comma-separated: cifar, imagenet")
  args = parser.parse_args(argv)
  start(args)
  import jax

  lines = [f"# {heading}", ""] + environment_lines(args.malloc, torch_peers=False) + [""]
  for name in (s.strip() for s in args.sizes.split(",") if s.strip()):
    size = SIZES[name]
    keys = list(jax.random.split(jax.random.key(0), args.reps + args.rounds + 2))
    timed = rows(size, keys)
    measure(timed, args.reps, min(args.reps, args.rounds), warmup=2)
    lines += copy_ratio_table(title(size), timed) + [""]
  report(lines, args.out)


def _parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument(
    "--sizes", default="cifar,imagenet", help="comma-separated batch sizes: " + ", ".join(SIZES)
  )
  parser.add_argument(
    "--reps",
    type=int,
    default=None,
    help="timed calls per row (default: per size, 400 cifar, 40 imagenet)",
  )
  parser.add_argument(
    "--rounds", type=int, default=10, help="interleaved rounds the repetitions are spread over"
  )
  parser.add_argument(
    "--rows",
    default=None,
    help="comma-separated substrings: time only the rows whose name contains one of them "
    "(e.g. 'random_erasing,gridmask'); the reference rows (copy, x·s, blend, "
    "gather) are always timed, and the forward pass alone whenever a 'forward + ...' row is",
  )
  parser.add_argument("--quick", action="store_true", help="a few repetitions: a smoke run")
  parser.add_argument("--out", default=None, help="also write the markdown report here")
  parser.add_argument(
    "--malloc",
    choices=sorted(MALLOC_SETTINGS),
    default="inherit",
    help="re-execute under this glibc malloc setting (see the module docstring)",
  )
  parser.add_argument(
    "--cores",
    type=int,
    default=None,
    help="pin the process to its first N usable cores before JAX starts (see the module "
    "docstring: with one core, XLA:CPU's worker threads never wait for another core to wake)",
  )
  return parser


def _pin_cores(cores: int | None) -> None:
  """Restricts the process (so XLA's and torch's thread pools) to its first `cores` cores."""
  if cores is None:
    return
  usable = sorted(os.sched_getaffinity(0))
  if not 1 <= cores <= len(usable):
    raise SystemExit(f"--cores must be in [1, {len(usable)}], got {cores}")
  os.sched_setaffinity(0, usable[:cores])


def run_size(size: Size, args: argparse.Namespace, notes: list[str]) -> list[Row]:
  """Builds and times every selected row of one batch size."""
  import jax

  only = [r.strip() for r in args.rows.split(",") if r.strip()] if args.rows else None
  reps = args.reps or (size.quick_reps if args.quick else size.default_reps)
  rounds = min(reps, 2 if args.quick else args.rounds)
  warmup = 1 if args.quick else 2
  keys = list(jax.random.split(jax.random.key(0), warmup + reps + rounds))
  rows = (
    reference_rows(size, notes)
    + jax_rows(size, keys, notes, only)
    + presampled_rows(size, only)
    + numpy_rows(size, only)
    + timm_rows(size, notes, only)
    + torchvision_rows(size, notes, only)
    + issue11_peer_rows(size, notes, only)
    + graph_rows(size, keys, only)
  )
  print(
    f"Timing {size.name}: {len(rows)} rows × {reps} calls over {rounds} rounds ...",
    file=sys.stderr,
    flush=True,
  )
  measure(rows, reps, rounds, warmup)
  return rows


def main(argv: list[str] | None = None) -> None:
  args = _parser().parse_args(argv)
  _maybe_reexec(args.malloc)
  _pin_cores(args.cores)
  sizes = [SIZES[s.strip()] for s in args.sizes.split(",") if s.strip()]
  lines = ["# mixjax ops benchmark", ""] + environment_lines(args.malloc) + [""]
  print("\n".join(lines), flush=True)
  notes: list[str] = []
  results = {}
  for size in sizes:
    rows = run_size(size, args, notes)
    results[size.name] = rows
    section = op_table(size, rows) + [""] + graph_table(size, rows) + [""]
    section += memory_table(size, rows) + [""]
    print("\n".join(section), flush=True)
    lines += section
  tail = target_lines(results) + scaling_lines(results)
  load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
  tail += ["", f"Load average at the end (1, 5, 15 min): {load}."]
  if notes:
    tail += ["", "## Notes", ""] + [f"- {n}" for n in dict.fromkeys(notes)]
  print("\n".join(tail), flush=True)
  lines += tail
  if args.out:
    pathlib.Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
  main()
