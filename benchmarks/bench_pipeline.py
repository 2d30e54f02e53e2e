"""End-to-end images/sec of train.py's loop against the bare jitted step, on in-memory data.

The data: a synthetic CIFAR-shaped `mixjax.data.ArraySource` (uint8 `[n, 32, 32, 3]`, 10
classes) held in memory, so the host pipeline is what train.py runs (index the epoch order,
normalise, place on the devices), with nothing read from disk. Three variants on the same
config (the small CNN, batch 128, crop + flip, mixup α = 1):

* `bare step`: `Parallel.train` in a tight loop on batches already on the devices (the
  epoch's batches placed once, before timing): the ceiling.
* `train.py loop`: `mixjax.training.loop.train(config, workdir, source=...)`, the function
  train.py calls, with device prefetch; its rate is the `images_per_sec` it logs for the last
  epoch (first step of the epoch excluded, as in metrics.jsonl).
* `train.py loop, no prefetch`: the same with `Parallel.prefetch` replaced by the plain
  iterator (host batches placed by the step call), to show what the prefetch buys.

Variants run in a shuffled order in each round (drift hits all alike); the table gives the
median images/sec and the median of the per-round ratios to the bare step.

  python benchmarks/bench_pipeline.py [--rounds 5] [--steps 40] [--batch 128] [--model small_cnn]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import sys
import tempfile
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mixjax import data as data_lib  # noqa: E402
from mixjax.training import config as config_lib  # noqa: E402
from mixjax.training import loop  # noqa: E402
from mixjax.training import parallel as parallel_lib  # noqa: E402

NUM_CLASSES = 10
VARIANTS = ("bare step", "train.py loop", "train.py loop, no prefetch")


def synthetic_source(num_train: int, *, image_size: int = 32, num_test: int = 256, seed: int = 0):
  """A CIFAR-shaped in-memory source of uniform uint8 images and random labels."""
  rng = np.random.default_rng(seed)
  shape = (image_size, image_size, 3)
  return data_lib.ArraySource.from_splits(
    "synthetic_cifar",
    num_classes=NUM_CLASSES,
    train_inputs=rng.integers(0, 256, (num_train, *shape), dtype=np.uint8),
    train_labels=rng.integers(0, NUM_CLASSES, num_train),
    test_inputs=rng.integers(0, 256, (num_test, *shape), dtype=np.uint8),
    test_labels=rng.integers(0, NUM_CLASSES, num_test),
    seed=seed,
  )


def pipeline_config(model: str, batch_size: int, *, half: bool = False, num_epochs: int = 2):
  """The run config of every variant: the CIFAR recipe's SGD, crop + flip, mixup α = 1."""
  config = config_lib.default_config()
  config.update(
    dataset="cifar10",  # Only named: the benchmark passes its own source.
    model=model,
    batch_size=batch_size,
    half_precision=half,
    num_epochs=num_epochs,
    learning_rate=0.1,
    lr_milestones=(),
    augment="crop_flip",
    mix="mixup",
    mixup_alpha=1.0,
    checkpoint_every_epochs=num_epochs,
  )
  config_lib.validate(config)
  return config


def bare_setup(config, source):
  """The driver and a device state built by the loop's own functions, as `loop.setup` does.

  Returns:
    `(parallel, state)`.
  """
  info = source.info
  parallel = loop.make_parallel(config, info.num_classes)
  tx, _ = loop.make_optimizer(config, source.steps_per_epoch(config.batch_size))
  model = loop.create_model(config, info.num_classes)
  return parallel, parallel.put_state(loop.create_state(config, model, tx, info.input_shape))


def bare_step_rate(config, source) -> float:
  """Images/sec of `Parallel.train` on the epoch's batches, placed on the devices beforehand."""
  parallel, state = bare_setup(config, source)
  host = source.train_batches(epoch=0, global_batch_size=config.batch_size)
  batches = [parallel_lib.DeviceBatch(b, parallel.put_batch(b)) for b in host]
  hparams = loop.mixing_hparams(config, epoch=0)
  state, metrics = parallel.train(state, batches[0], hparams)  # Compile and warm up.
  jax.block_until_ready((state, metrics, batches))
  start = time.perf_counter()
  for batch in batches[1:]:
    state, metrics = parallel.train(state, batch, hparams)
  jax.block_until_ready((state, metrics))
  return (len(batches) - 1) * config.batch_size / (time.perf_counter() - start)


@contextlib.contextmanager
def _no_prefetch():
  """`Parallel.prefetch` as the plain iterator, for the loop's no-prefetch variant."""
  saved = parallel_lib.Parallel.prefetch
  parallel_lib.Parallel.prefetch = lambda self, batches, **kwargs: iter(batches)
  try:
    yield
  finally:
    parallel_lib.Parallel.prefetch = saved


def loop_rate(config, source, *, prefetch: bool = True) -> float:
  """The images/sec that `loop.train` (train.py's loop) logs for its last epoch."""
  with tempfile.TemporaryDirectory() as workdir:
    with contextlib.redirect_stdout(open(os.devnull, "w")):  # noqa: SIM115 - closed at exit.
      with contextlib.nullcontext() if prefetch else _no_prefetch():
        loop.train(config, workdir, source=source)
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
      records = [json.loads(line) for line in f]
  return float(records[-1]["images_per_sec"])


def measure(config, source, rounds: int) -> dict[str, list[float]]:
  """Images/sec of each variant per round, the variants shuffled in each round."""
  run = {
    VARIANTS[0]: lambda: bare_step_rate(config, source),
    VARIANTS[1]: lambda: loop_rate(config, source),
    VARIANTS[2]: lambda: loop_rate(config, source, prefetch=False),
  }
  rates = {name: [] for name in VARIANTS}
  order = list(VARIANTS)
  for _ in range(rounds):
    random.shuffle(order)
    for name in order:
      rates[name].append(run[name]())
  return rates


def table(rates: dict[str, list[float]], model: str, batch_size: int) -> list[str]:
  """The Markdown rows: median images/sec and the median per-round ratio to the bare step."""
  bare = np.array(rates[VARIANTS[0]])
  lines = [
    "| variant | model | batch | images/sec (median) | × bare step (median of rounds) |",
    "|---|---|---:|---:|---:|",
  ]
  for name, values in rates.items():
    ratio = np.median(np.array(values) / bare)
    lines.append(
      f"| {name} | {model} | {batch_size} | {np.median(values):,.0f} | {100 * ratio:.1f}% |"
    )
  return lines


def run_benchmark(model: str, batch_size: int, steps: int, rounds: int, *, half: bool = False):
  """Builds the source and config, measures every variant; returns the Markdown table."""
  source = synthetic_source(steps * batch_size)
  config = pipeline_config(model, batch_size, half=half)
  return table(measure(config, source, rounds), model, batch_size)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--rounds", type=int, default=5)
  parser.add_argument("--steps", type=int, default=40, help="train steps per epoch")
  parser.add_argument("--batch", type=int, default=128)
  parser.add_argument("--model", default="small_cnn")
  parser.add_argument("--half", action="store_true", help="bfloat16 compute")
  args = parser.parse_args()
  print(
    f"machine: {platform.machine()} cores={os.cpu_count()} load={os.getloadavg()[0]:.1f} "
    f"jax {jax.__version__} on {jax.devices()}"
  )
  print("\n".join(run_benchmark(args.model, args.batch, args.steps, args.rounds, half=args.half)))


if __name__ == "__main__":
  main()
