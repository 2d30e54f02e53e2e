"""Train-step cost of in-graph mixing, and images/sec against a PyTorch peer.

In one process: the real mixjax train step, built by the loop's own functions as train.py
builds it (`mixjax.training.loop`: model, optimizer, state and the pmap driver from a run
config), here on every local device, with mix = none / mixup / cutmix / mixup_or_cutmix on the
same model, batch and state, for the small CNN (digits-size 8×8×1) and PreAct ResNet-18
(batch 128, 32×32×3). Variants are interleaved round by round so that drift hits all of
them alike; each row is the median over rounds, and the overhead is relative to the ERM
step measured in the same rounds. Then the PyTorch PreAct ResNet-18 step with the paper's
mixup (benchmarks/torch_peer.py) on the same CPU, same batch, same recipe.

  python benchmarks/bench_train_step.py [--rounds 7] [--steps 3] [--models small_cnn]
    [--mixes none,mixup]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mixjax.training import config as config_lib  # noqa: E402
from mixjax.training import loop  # noqa: E402
from mixjax.training import parallel as parallel_lib  # noqa: E402

MIXES = config_lib.CHOICES["mix"]
SHAPES = {"small_cnn": ((8, 8, 1), 128), "preact_resnet18": ((32, 32, 3), 128)}
NUM_CLASSES = 10


def bench_config(model_name: str, mix: str, batch_size: int, half: bool):
  """A run config for one variant: the CIFAR recipe's SGD (lr 0.1, momentum 0.9, wd 1e-4)."""
  config = config_lib.default_config()
  config.model = model_name
  config.mix = mix
  config.batch_size = batch_size
  config.half_precision = half
  config.learning_rate = 0.1
  config.momentum = 0.9
  config.weight_decay = 1e-4
  config.lr_milestones = ()
  config.mixup_alpha = config.cutmix_alpha = 1.0
  config_lib.validate(config)
  return config


def make_runner(model_name: str, mix: str, input_shape, batch_size: int, half: bool):
  config = bench_config(model_name, mix, batch_size, half)
  model = loop.create_model(config, NUM_CLASSES)
  tx, _ = loop.make_optimizer(config, steps_per_epoch=1)
  parallel = loop.make_parallel(config, NUM_CLASSES)
  state = parallel.put_state(loop.create_state(config, model, tx, input_shape))
  rng = np.random.default_rng(0)
  batch = {
    "image": rng.normal(size=(batch_size, *input_shape)).astype(np.float32),
    "label": rng.integers(0, NUM_CLASSES, batch_size).astype(np.int32),
  }
  # Placed on the devices once, as the PyTorch peer's batch is: the step alone is timed.
  batch = parallel_lib.DeviceBatch(batch, parallel.put_batch(batch))
  hparams = loop.mixing_hparams(config, epoch=0)
  box = {"state": state}

  def run(steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
      box["state"], metrics = parallel.train(box["state"], batch, hparams)
    jax.block_until_ready((box["state"], metrics))
    return (time.perf_counter() - start) / steps

  run(2)  # compile + warm up
  return run


def bench_jax(
  model_name: str,
  rounds: int,
  steps: int,
  half: bool,
  *,
  input_shape=None,
  batch_size=None,
  mixes=MIXES,
) -> dict[str, list[float]]:
  """Seconds per step of each mix, per round (shapes default to SHAPES[model_name])."""
  default_shape, default_batch = SHAPES[model_name]
  input_shape, batch_size = input_shape or default_shape, batch_size or default_batch
  runners = {mix: make_runner(model_name, mix, input_shape, batch_size, half) for mix in mixes}
  times = {mix: [] for mix in mixes}
  order = list(mixes)
  for _ in range(rounds):
    random.shuffle(order)
    for mix in order:
      times[mix].append(runners[mix](steps))
  return times


def bench_torch(
  rounds: int,
  steps: int,
  *,
  device: str = "cpu",
  half: bool = False,
  compile_model: bool = False,
  batch_size: int = 128,
  image_size: int = 32,
) -> dict[str, list[float]] | None:
  """Seconds per step of the PyTorch peer (ERM and mixup), per round; None without torch.

  Args:
    rounds: timed rounds (ERM and mixup alternate within each).
    steps: steps per round and variant.
    device: "cpu" or "cuda".
    half: bfloat16 autocast (the weights and optimizer stay float32).
    compile_model: wrap the model in `torch.compile`.
    batch_size: images per step.
    image_size: side of the square 3-channel images (channels_last).
  """
  try:
    import torch

    from benchmarks import torch_peer
  except ImportError as error:
    print(f"PyTorch peer skipped: {error} (install with `pip install -e '.[bench]'`)")
    return None
  torch.manual_seed(0)
  x = torch.randn(batch_size, 3, image_size, image_size, device=device)
  x = x.contiguous(memory_format=torch.channels_last)
  labels = torch.randint(0, 10, (batch_size,), device=device)
  sync = torch.cuda.synchronize if device == "cuda" else lambda: None
  steps_by_mix = {}
  for mix in (False, True):
    model = torch_peer.PreActResNet18().to(device=device, memory_format=torch.channels_last)
    if compile_model:
      model = torch.compile(model)
    dtype = torch.bfloat16 if half else None
    steps_by_mix["mixup" if mix else "none"] = torch_peer.make_step(model, mix=mix, dtype=dtype)
  times = {k: [] for k in steps_by_mix}
  for fn in steps_by_mix.values():
    fn(x, labels)  # warm-up (and compilation)
    fn(x, labels)
  sync()
  for _ in range(rounds):
    for name, fn in steps_by_mix.items():
      start = time.perf_counter()
      for _ in range(steps):
        fn(x, labels)
      sync()
      times[name].append((time.perf_counter() - start) / steps)
  return times


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--rounds", type=int, default=7)
  parser.add_argument("--steps", type=int, default=3, help="steps per round and variant")
  parser.add_argument("--models", default="small_cnn,preact_resnet18")
  parser.add_argument("--half", action="store_true", help="bfloat16 compute")
  parser.add_argument("--mixes", default=",".join(MIXES), help="mixes to time (none first)")
  parser.add_argument("--no-torch", action="store_true")
  args = parser.parse_args()

  print(
    f"machine: {platform.machine()} {platform.processor() or ''} cores={os.cpu_count()} "
    f"jax {jax.__version__} on {jax.devices()} XLA_FLAGS={os.environ.get('XLA_FLAGS', '')}"
  )
  lines = [
    "| model | batch | mix | ms / step (median) | images/sec | overhead vs ERM |",
    "|---|---:|---|---:|---:|---:|",
  ]
  for model_name in args.models.split(","):
    mixes = tuple(args.mixes.split(","))
    times = bench_jax(model_name, args.rounds, args.steps, args.half, mixes=mixes)
    batch = SHAPES[model_name][1]
    erm = np.median(times["none"])
    for mix in mixes:
      med = np.median(times[mix])
      # Overhead from per-round ratios (same round, same conditions), then the median.
      ratio = np.median(np.array(times[mix]) / np.array(times["none"]))
      lines.append(
        f"| mixjax {model_name} | {batch} | {mix} | {1e3 * med:.2f} | "
        f"{batch / med:,.0f} | {100 * (ratio - 1):+.1f}% |"
      )
    if model_name == "preact_resnet18":
      jax_erm = erm
  if not args.no_torch and "preact_resnet18" in args.models:
    torch_times = bench_torch(max(3, args.rounds // 2), args.steps)
    if torch_times is not None:
      import torch

      for mix, values in torch_times.items():
        med = np.median(values)
        lines.append(
          f"| PyTorch {torch.__version__} preact_resnet18 ({torch.get_num_threads()} "
          f"threads) | 128 | {mix} | {1e3 * med:.2f} | {128 / med:,.0f} | "
          f"{100 * (med / np.median(torch_times['none']) - 1):+.1f}% |"
        )
      lines.append(
        f"\nmixjax / PyTorch images/sec (ERM step): {np.median(torch_times['none']) / jax_erm:.2f}×"
      )
  print("\n".join(lines))


if __name__ == "__main__":
  main()
