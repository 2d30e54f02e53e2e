"""Training runs for the experiments: one config per run, skipped when already finished.

Each run trains through :func:`mixjax.loop.train` in its own directory, so a killed
experiment loses no finished run: rerunning it reuses every run whose `summary.json`
exists and resumes the interrupted one from its checkpoints.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import ml_collections

from mixjax.training import loop
from mixjax.training.config import default_config


def base_config(**overrides: Any) -> ml_collections.ConfigDict:
  """configs/default.py with `overrides`; checkpoints only at the end (short runs)."""
  config = default_config()
  for key, value in overrides.items():
    if key not in config:
      raise ValueError(f"Unknown config key {key!r}.")
    config[key] = value
  if "checkpoint_every_epochs" not in overrides:
    config.checkpoint_every_epochs = config.num_epochs
  return config


def train_once(config: ml_collections.ConfigDict, workdir: str, *, need_state: bool = False):
  """Trains `config` in `workdir` unless a finished run is there already.

  Args:
    config: the run's config.
    workdir: its directory.
    need_state: also return the final host state (restored from the last checkpoint
      when the run had finished before).

  Returns:
    `(summary, records)`, or `(summary, records, state)` when `need_state`; `records`
    are the per-epoch metrics.
  """
  summary_path = os.path.join(workdir, "summary.json")
  if os.path.exists(summary_path) and not need_state:
    with open(summary_path) as f:
      summary = json.load(f)
    state = None
  else:
    state, summary = loop.train(config, workdir)
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    records = [json.loads(line) for line in f if line.strip()]
  if need_state:
    return summary, records, state
  return summary, records


def floats(text: str) -> tuple[float, ...]:
  """`"0.2,0.5"` -> (0.2, 0.5), for command-line lists."""
  return tuple(float(x) for x in text.split(",") if x)


def ints(text: str) -> tuple[int, ...]:
  """`"100,150"` -> (100, 150); `""` -> ()."""
  return tuple(int(x) for x in text.split(",") if x)


def add_recipe_arguments(parser: argparse.ArgumentParser) -> None:
  """The training-recipe options shared by the experiments that train through train.py."""
  parser.add_argument("--dataset", help="digits (offline) or a tfds name, e.g. cifar10")
  parser.add_argument("--model", help="mlp, small_cnn, preact_resnet18, ...")
  parser.add_argument("--epochs", type=int)
  parser.add_argument("--milestones", type=ints, help="epochs where lr ×0.1, e.g. 100,150")
  parser.add_argument("--batch_size", type=int)
  parser.add_argument("--learning_rate", type=float)
  parser.add_argument("--augment", choices=("none", "crop_flip"))
