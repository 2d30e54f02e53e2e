"""One command that measures mixjax on an accelerator and writes a Markdown report.

Sections (each written to the report as soon as it is measured, so a run cut short keeps
what it finished):

(a) every op at CIFAR size (128×32×32×3) and ImageNet size (128×224×224×3), float32 and
    bfloat16, as a ratio to the device's own jitted copy of the same batch; timm's `Mixup`
    and torchvision's `v2.MixUp` / `v2.CutMix` on the same tensors on the same device;
(b) the PreAct ResNet-18 train step in bfloat16 (`Parallel.train`, as train.py runs it) with
    each mix vs ERM, and the same model and recipe in PyTorch (bfloat16 autocast,
    channels_last) in images/sec, eager, and under `torch.compile` in a last section (its
    compilation is slow; a failure is reported as a row);
(c) train.py's loop end to end on synthetic CIFAR-shaped in-memory data vs the bare step
    (`benchmarks/bench_pipeline.py`);
(d) the projected wall time of the paper's 200-epoch CIFAR-10 recipe (50,000 images, batch
    128, 390 steps per epoch, at the loop's measured rate, plus 10,000 test images per epoch
    at the measured eval rate; checkpoint writes not included).

Rows are timed in interleaved rounds; a time is the median over rounds of back-to-back
calls with one wait at the end. `--smoke` runs the same code on the CPU at tiny sizes (the
small CNN in place of ResNet-18, no `torch.compile`); the test suite runs it. Nothing on
this path imports tensorflow; the training harness needs `ml_collections`, which the GPU
image lacks (see benchmarks/device_wheels.txt for carrying it as a wheel).

  XLA_PYTHON_CLIENT_MEM_FRACTION=.5 python benchmarks/device_check.py --out device_check.md  # GPU
  python benchmarks/device_check.py --smoke --out /tmp/smoke.md

JAX takes 75% of the GPU's memory at start-up unless told otherwise; the memory fraction
leaves the PyTorch peer room in the same process.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import functools
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import traceback

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental.compilation_cache import compilation_cache as compilation_cache_lib

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import mixjax  # noqa: E402
from benchmarks import bench_pipeline  # noqa: E402
from benchmarks import bench_train_step  # noqa: E402

DTYPES = ("float32", "bfloat16")
RECIPE = {"epochs": 200, "train": 50_000, "test": 10_000, "batch": 128}


@dataclasses.dataclass(frozen=True)
class Profile:
  """The sizes and repetitions of one run of the check."""

  name: str
  op_tables: tuple[tuple[str, int, int, int, str], ...]  # (size, batch, side, classes, dtype)
  op_rows: tuple[str, ...] | None  # the ops timed (names from op_specs); None = all
  op_calls: int  # back-to-back calls per row and round
  rounds: int  # interleaved rounds of every timed section
  step_model: str
  step_mixes: tuple[str, ...]
  step_batch: int
  step_steps: int  # steps per round and variant
  torch_size: int  # image side of the PyTorch peer
  torch_compile: bool
  pipeline_steps: int  # train steps per epoch of the synthetic source
  pipeline_rounds: int
  num_test: int  # test images of the synthetic source (the eval rate)


GPU = Profile(
  name="gpu",
  op_tables=tuple(
    (size, 128, side, classes, dtype)
    for size, side, classes in (("cifar", 32, 10), ("imagenet", 224, 1000))
    for dtype in DTYPES
  ),
  op_rows=None,
  op_calls=50,
  rounds=5,
  step_model="preact_resnet18",
  step_mixes=bench_train_step.MIXES,
  step_batch=128,
  step_steps=20,
  torch_size=32,
  torch_compile=True,
  pipeline_steps=100,
  pipeline_rounds=2,
  num_test=10_000,
)
# The same code at tiny sizes, each kind of table once, a few rows: compilation dominates.
SMOKE = Profile(
  name="smoke",
  op_tables=(("cifar", 8, 8, 10, "float32"), ("imagenet", 4, 16, 20, "bfloat16")),
  op_rows=("mixup batch", "cutmix elem", "gridmask", "fmix batch", "resizemix elem"),
  op_calls=2,
  rounds=2,
  step_model="small_cnn",
  step_mixes=("none", "mixup"),
  step_batch=8,
  step_steps=2,
  torch_size=16,
  torch_compile=False,
  pipeline_steps=3,
  pipeline_rounds=1,
  num_test=16,
)


class Report:
  """The Markdown report: printed, and appended to `path` (flushed) as it grows."""

  def __init__(self, path: str | None):
    self.path = path
    self.lines: list[str] = []
    if path:
      open(path, "w").close()

  def add(self, lines: list[str]) -> None:
    self.lines += [*lines, ""]
    text = "\n".join([*lines, ""]) + "\n"
    print(text, flush=True)
    if self.path:
      with open(self.path, "a") as f:
        f.write(text)


def table(columns: list[str], body: list[list[str]], text_columns: int = 1) -> list[str]:
  """A Markdown table; the first `text_columns` columns are left-aligned."""
  align = ["---"] * text_columns + ["---:"] * (len(columns) - text_columns)
  line = lambda cells: "| " + " | ".join(cells) + " |"
  return [line(columns), line(align)] + [line(cells) for cells in body]


def environment(profile: Profile) -> list[str]:
  """The header: when, where, which versions."""
  lines = [
    f"# mixjax device check ({profile.name})",
    "",
    f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
    f"- machine: {platform.machine()}, {os.cpu_count()} CPU cores, "
    f"load {os.getloadavg()[0]:.1f}, Python {platform.python_version()}",
    f"- jax {jax.__version__} on {jax.devices()}",
  ]
  try:
    import torch

    cuda = torch.cuda.get_device_name() if torch.cuda.is_available() else "no CUDA"
    lines.append(f"- torch {torch.__version__} ({cuda})")
  except ImportError:
    lines.append("- torch: not installed (PyTorch rows skipped)")
  return lines


# --------------------------------------------------------------------------------------
# (a) The ops against the device's copy, and the torch peers on the same device.


def op_specs() -> list[tuple[str, tuple[str, str], object]]:
  """Every op as `(row name, (op, mode), fn(key, images, labels))`."""
  specs = []
  for name in ("mixup", "cutmix", "mixup_or_cutmix", "fmix", "resizemix"):
    for mode in ("batch", "elem"):
      fn = functools.partial(getattr(mixjax, name), mode=mode)
      specs.append((f"{name} {mode}", (name, mode), fn))
  specs.append(
    ("random_erasing", ("random_erasing", ""), lambda k, x, y: mixjax.random_erasing(k, x))
  )
  specs.append(("gridmask", ("gridmask", ""), lambda k, x, y: mixjax.gridmask(k, x)))
  return specs


def time_rows(calls: dict[str, object], n: int, rounds: int, sync) -> dict[str, float]:
  """Median over `rounds` interleaved rounds of the seconds per call of `n` back-to-back calls.

  Args:
    calls: row name -> `call(i)` running call number `i` (and returning its output).
    n: calls per row and round.
    rounds: rounds; the row order is shuffled afresh each round (seeded), so that no row
      always runs right after the same neighbour.
    sync: waits for an output (e.g. `jax.block_until_ready`).
  """
  for call in calls.values():
    sync(call(0))  # compile / warm up
  names, times = list(calls), {name: [] for name in calls}
  order = random.Random(0)
  for _ in range(rounds):
    for name in order.sample(names, len(names)):
      start = time.perf_counter()
      for i in range(n):
        out = calls[name](i)
      sync(out)
      times[name].append((time.perf_counter() - start) / n)
  return {name: statistics.median(values) for name, values in times.items()}


def jax_op_calls(batch, side, classes, dtype, n, only=None) -> dict[str, object]:
  """The jitted copy (the reference) and every op (or those named in `only`), own key per call."""
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.random((batch, side, side, 3), np.float32), dtype)
  y = jax.nn.one_hot(rng.integers(0, classes, batch), classes, dtype=dtype)
  keys = jax.random.split(jax.random.key(0), n + 1)
  copy = jax.jit(lambda x: x + 0)
  calls = {"jitted copy (reference)": lambda i: copy(x)}
  for name, _, fn in op_specs():
    if only is not None and name not in only:
      continue
    jitted = jax.jit(fn)
    calls[name] = lambda i, jitted=jitted: jitted(keys[i], x, y)
  return calls


def torch_op_calls(batch: int, side: int, classes: int, dtype: str) -> tuple[dict, object, str]:
  """timm's and torchvision's batch mixers on the same tensors (NCHW), on CUDA when present.

  Returns:
    `(calls, sync, note)`: row name -> `call(i)`, the device wait, and what was skipped.
  """
  try:
    import torch
  except ImportError:
    return {}, None, "torch not installed: timm / torchvision rows skipped."
  device = "cuda" if torch.cuda.is_available() else "cpu"
  rng = np.random.default_rng(0)
  images = rng.random((batch, 3, side, side), np.float32)
  x = torch.from_numpy(images).to(device=device, dtype=getattr(torch, dtype))
  target = torch.from_numpy(rng.integers(0, classes, batch)).to(device)
  calls, notes = {}, []
  try:
    from timm.data import Mixup

    alphas = {"mixup": (1.0, 0.0), "cutmix": (0.0, 1.0)}
    for name, (mixup_alpha, cutmix_alpha) in alphas.items():
      kwargs = {"mixup_alpha": mixup_alpha, "cutmix_alpha": cutmix_alpha}
      mix = Mixup(**kwargs, mode="batch", label_smoothing=0.0, num_classes=classes)
      calls[f"timm {name} batch (in place, {device})"] = lambda i, mix=mix: mix(x, target)
  except ImportError as error:
    notes.append(f"timm skipped: {error}.")
  try:
    from torchvision.transforms import v2

    for name in ("MixUp", "CutMix"):
      transform = getattr(v2, name)(alpha=1.0, num_classes=classes)
      calls[f"torchvision {name} batch ({device})"] = lambda i, t=transform: t(x, target)
  except ImportError as error:
    notes.append(f"torchvision skipped: {error}.")
  sync = torch.cuda.synchronize if device == "cuda" else lambda: None
  return calls, (lambda out: sync()), " ".join(notes)


def ops_section(report: Report, profile: Profile) -> dict[tuple[str, str], dict[str, float]]:
  """(a): one table per size and dtype; returns the ratios to the copy by (size, dtype)."""
  ratios = {}
  for size, batch, side, classes, dtype in profile.op_tables:
    calls = jax_op_calls(batch, side, classes, dtype, profile.op_calls, profile.op_rows)
    jax_times = time_rows(calls, profile.op_calls, profile.rounds, jax.block_until_ready)
    calls, sync, note = torch_op_calls(batch, side, classes, dtype)
    try:
      peer_times = time_rows(calls, profile.op_calls, profile.rounds, sync) if calls else {}
    except Exception as error:  # noqa: BLE001 - a peer's failure must not cost the run.
      peer_times, note = {}, f"{note} torch peers failed: {type(error).__name__}: {error}"
    copy = jax_times["jitted copy (reference)"]
    rows = {**jax_times, **peer_times}
    ratios[(size, dtype)] = {name: t / copy for name, t in rows.items()}
    body = [[name, f"{1e6 * t:.1f}", f"{t / copy:.2f}"] for name, t in rows.items()]
    title = f"### (a) ops, {size} {batch}×{side}×{side}×3 {dtype}"
    report.add([title, "", *table(["row", "µs / call", "× copy"], body)] + [note] * bool(note))
  return ratios


# --------------------------------------------------------------------------------------
# (b) The train step with each mix, and the PyTorch peer.


def step_section(report: Report, profile: Profile, half: bool) -> dict[str, float]:
  """(b): the step per mix (overhead vs ERM) and PyTorch; returns images/sec and overheads."""
  shape = (32, 32, 3)
  times = bench_train_step.bench_jax(
    profile.step_model, profile.rounds, profile.step_steps, half,
    input_shape=shape, batch_size=profile.step_batch, mixes=profile.step_mixes,
  )  # fmt: skip
  erm = np.array(times["none"])
  body, result = [], {}
  for mix, values in times.items():
    overhead = np.median(np.array(values) / erm) - 1
    rate = profile.step_batch / np.median(values)
    result[f"overhead {mix}"], result[f"jax {mix}"] = overhead, rate
    body.append([f"mixjax {profile.step_model}", mix, f"{1e3 * np.median(values):.2f}"])
    body[-1] += [f"{rate:,.0f}", f"{100 * overhead:+.2f}%"]
  body += torch_step_rows(profile, half, result)
  title = f"### (b) train step, batch {profile.step_batch}, {'bfloat16' if half else 'float32'}"
  columns = ["impl", "mix", "ms / step (median)", "images/sec", "overhead vs ERM"]
  report.add([title, "", *table(columns, body, text_columns=2)])
  return result


def torch_step_rows(profile: Profile, half: bool, result: dict, *, compiled: bool = False):
  """The PyTorch peer's rows (eager, or under `torch.compile`); its rates go into `result`."""
  import importlib.util

  if importlib.util.find_spec("torch") is None:
    return [["PyTorch", "(not installed)", "", "", ""]]
  import torch

  device = "cuda" if torch.cuda.is_available() else "cpu"
  kwargs = dict(device=device, half=half, batch_size=profile.step_batch, compile_model=compiled)
  label = "torch.compile" if compiled else "eager"
  name = f"PyTorch {torch.__version__} preact_resnet18 {profile.torch_size}px, {label}"
  try:
    times = bench_train_step.bench_torch(
      profile.rounds, profile.step_steps, image_size=profile.torch_size, **kwargs
    )
  except Exception as error:  # noqa: BLE001 - torch.compile may fail on a machine; say so.
    return [[name, f"failed: {type(error).__name__}: {str(error)[:80]}", "", "", ""]]
  rows = []
  for mix, values in times.items():
    rate = profile.step_batch / np.median(values)
    result[f"torch{' compiled' * compiled} {mix}"] = rate
    overhead = np.median(np.array(values) / np.array(times["none"])) - 1
    rows.append(
      [name, mix, f"{1e3 * np.median(values):.2f}", f"{rate:,.0f}", f"{100 * overhead:+.2f}%"]
    )
  return rows


def compiled_torch_section(report: Report, profile: Profile, half: bool, step: dict) -> None:
  """(b, last): the PyTorch peer under `torch.compile`, run last (its compilation is slow)."""
  rows = torch_step_rows(profile, half, step, compiled=True)
  columns = ["impl", "mix", "ms / step (median)", "images/sec", "overhead vs ERM"]
  lines = ["### (b) PyTorch with torch.compile", "", *table(columns, rows, text_columns=2)]
  if "torch compiled none" in step:
    ratio = step["jax none"] / step["torch compiled none"]
    lines += ["", target("train-step images/sec ≥ compiled PyTorch's", ratio >= 1, f"{ratio:.2f}×")]
  report.add(lines)


# --------------------------------------------------------------------------------------
# (c) train.py end to end, and (d) the projection.


def eval_rate(config, source) -> float:
  """Test images/sec of the eval step, as the loop runs it (host batches, padded last one)."""
  parallel, state = bench_pipeline.bare_setup(config, source)
  batches = lambda: source.eval_batches(global_batch_size=config.batch_size)
  for batch in batches():  # Compile and warm up.
    parallel.eval(state, batch)
    break
  start = time.perf_counter()
  for batch in batches():
    parallel.eval(state, batch)  # Returns host floats: waits for each batch.
  return source.info.num_test / (time.perf_counter() - start)


def pipeline_section(report: Report, profile: Profile, half: bool) -> dict[str, float]:
  """(c): bench_pipeline's variants on the step model; returns the median rates."""
  source = bench_pipeline.synthetic_source(
    profile.pipeline_steps * profile.step_batch, num_test=profile.num_test
  )
  config = bench_pipeline.pipeline_config(profile.step_model, profile.step_batch, half=half)
  rates = bench_pipeline.measure(config, source, profile.pipeline_rounds)
  title = f"### (c) train.py end to end vs the bare step ({profile.pipeline_steps} steps / epoch)"
  report.add([title, "", *bench_pipeline.table(rates, profile.step_model, profile.step_batch)])
  result = {name: float(np.median(values)) for name, values in rates.items()}
  result["eval"] = eval_rate(config, source)
  return result


def projection_section(report: Report, rates: dict[str, float]) -> float:
  """(d): the 200-epoch CIFAR-10 recipe's wall time at the measured rates; returns minutes."""
  steps = RECIPE["train"] // RECIPE["batch"]
  eval_s = RECIPE["test"] / rates["eval"]
  body, minutes = [], {}
  for name in bench_pipeline.VARIANTS[:2]:
    train_s = steps * RECIPE["batch"] / rates[name]
    minutes[name] = RECIPE["epochs"] * (train_s + eval_s) / 60
    body.append(
      [name, f"{rates[name]:,.0f}", f"{train_s:.2f}", f"{eval_s:.2f}", f"{minutes[name]:.1f}"]
    )
  title = (
    f"### (d) projected {RECIPE['epochs']}-epoch CIFAR-10 recipe "
    f"({steps} steps of {RECIPE['batch']} + {RECIPE['test']:,} test images per epoch)"
  )
  columns = ["rate from", "train images/sec", "train s / epoch", "eval s / epoch", "minutes"]
  report.add([title, "", *table(columns, body)])
  return minutes[bench_pipeline.VARIANTS[1]]


def target(what: str, ok: bool, detail: str) -> str:
  """One line of the targets: what, met or missed, and the measured numbers."""
  return f"- {what}: {'**met**' if ok else '**missed**'} ({detail})"


def op_target_lines(ops: dict[tuple[str, str], dict[str, float]]) -> list[str]:
  """The ImageNet-size op targets: ≤ 1.3× the copy, and faster than timm / torchvision."""
  lines = []
  for (size, dtype), ratios in ops.items():
    if size != "imagenet":
      continue
    ours = {k: v for k, v in ratios.items() if k.split()[0] in mixjax.__all__}
    # FMix's FFT and quantile are allowed more (issue 11): reported beside the target.
    mine = {k: v for k, v in ours.items() if not k.startswith("fmix")}
    peers = {k: v for k, v in ratios.items() if k.startswith(("timm", "torchvision"))}
    worst = max(mine, key=mine.get)
    detail = f"worst {worst} {mine[worst]:.2f}×"
    fmix = ", ".join(f"{k} {v:.2f}×" for k, v in ours.items() if k.startswith("fmix"))
    detail += f"; FMix, allowed more: {fmix}" if fmix else ""
    what = f"ImageNet {dtype}: every op but FMix ≤ 1.3× the copy"
    lines.append(target(what, mine[worst] <= 1.3, detail))
    if peers:
      best = min(peers, key=peers.get)
      ok = mine[worst] < peers[best]
      detail = f"worst op {mine[worst]:.2f}×, fastest peer {best} {peers[best]:.2f}×"
      lines.append(target(f"ImageNet {dtype}: faster than timm / torchvision", ok, detail))
  return lines


def targets_section(report: Report, ops, step: dict[str, float], minutes: float) -> None:
  """The issue's targets, met or missed, from the measured numbers."""
  lines = ["### Targets", "", *op_target_lines(ops)]
  overheads = {k.split()[1]: v for k, v in step.items() if k.startswith("overhead ")}
  overheads.pop("none")
  worst = max(overheads, key=overheads.get)
  detail = f"worst {worst} {100 * overheads[worst]:+.2f}%"
  lines.append(target("mixing adds ≤ 1% to the step", overheads[worst] <= 0.01, detail))
  if "torch none" in step:
    ratio = step["jax none"] / step["torch none"]
    lines.append(target("train-step images/sec ≥ eager PyTorch's", ratio >= 1, f"{ratio:.2f}×"))
  lines.append(target("200-epoch CIFAR-10 recipe ≤ 10 min", minutes <= 10, f"{minutes:.1f} min"))
  lines.append(f"- tensorflow imported on this path: {'tensorflow' in sys.modules}")
  report.add(lines)


@contextlib.contextmanager
def compilation_cache():
  """A fresh persistent compilation cache for the block (the loop variants of (c) compile the
  same programs again: they load them instead); the previous settings come back after."""
  names = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs")
  saved = {name: getattr(jax.config, name) for name in names}
  with tempfile.TemporaryDirectory(prefix="mixjax_jit_") as cache_dir:
    jax.config.update(names[0], cache_dir)
    jax.config.update(names[1], 0)
    compilation_cache_lib.reset_cache()
    try:
      yield
    finally:
      compilation_cache_lib.reset_cache()
      for name, value in saved.items():
        jax.config.update(name, value)


def run(profile: Profile, out: str | None, half: bool) -> Report:
  """Runs every section in order; returns the report."""
  report = Report(out)
  report.add(environment(profile))
  guard = functools.partial(guarded, report)
  with compilation_cache():
    ops = guard("(a)", ops_section, report, profile)
    step = guard("(b)", step_section, report, profile, half)
    rates = guard("(c)", pipeline_section, report, profile, half)
  minutes = guard("(d)", projection_section, report, rates) if rates else None
  if ops and step and minutes is not None:
    targets_section(report, ops, step, minutes)
  if profile.torch_compile and step:
    guard("(b) torch.compile", compiled_torch_section, report, profile, half, step)
  return report


def guarded(report: Report, name: str, section, *args):
  """Runs a section; on an error, writes it to the report (the run goes on) and returns None."""
  try:
    return section(*args)
  except Exception:  # noqa: BLE001 - one section's failure must not cost the others.
    report.add([f"### {name} FAILED", "", "```", traceback.format_exc()[-3000:], "```"])
    return None


def main(argv: list[str] | None = None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--smoke", action="store_true", help="tiny sizes on the CPU")
  parser.add_argument("--out", default=None, help="Markdown report path")
  parser.add_argument("--float32", action="store_true", help="train steps in float32")
  args = parser.parse_args(argv)
  run(SMOKE if args.smoke else GPU, args.out, half=not args.float32)


if __name__ == "__main__":
  main()
