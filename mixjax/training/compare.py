r"""Train the same config with several mixing settings and print them side by side.

  python -m mixjax.training.compare --config configs/digits.py --workdir runs/digits
  python -m mixjax.training.compare --config configs/digits.py --workdir runs/d \
      --mixes=none,mixup,cutmix
  python -m mixjax.training.compare --config configs/digits.py --workdir runs/d \
      --mixes=none,mixup,manifold_mixup
  python -m mixjax.training.compare --config configs/mnist1d.py --workdir runs/mnist1d \
      --seeds=0,1,2

Each setting trains in `workdir/<mix>` (and resumes there when rerun); the table goes to
stdout and `workdir/comparison.md`. With `--seeds`, each setting trains once per seed in
`workdir/<mix>/seed<k>` and the table gives mean ± std (population std) over the seeds of
the best and last test accuracy and of the last epoch's test ECE and NLL, followed, for
MNIST-1D, by the published test accuracies of the dataset's README (:data:`PUBLISHED`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import ml_collections
from absl import flags

from mixjax.training import cli
from mixjax.training import config as config_lib
from mixjax.training import loop
from mixjax.training import reporting

# config.mix -> how tables name the method.
LABELS = {
  "none": "ERM",
  "mixup": "mixup",
  "cutmix": "CutMix",
  "mixup_or_cutmix": "mixup|CutMix",
  "manifold_mixup": "manifold mixup",
}
# Test accuracies (%) published in the MNIST-1D README (greydanus/mnist1d, "Comparing
# MNIST and MNIST-1D"), by dataset name.
PUBLISHED = {
  "mnist1d": {"logistic regression": 32, "MLP": 68, "CNN": 94, "GRU": 91, "human": 96},
  "mnist1d_shuffle": {"logistic regression": 32, "MLP": 68, "CNN": 56, "GRU": 57, "human": 30},
}
# Table rows name these methods' mixup α.
_WITH_MIXUP_ALPHA = ("mixup", "mixup_or_cutmix", "manifold_mixup")


def method_label(config: ml_collections.ConfigDict) -> str:
  """How tables name the method of `config`: "ERM", "mixup (α=0.4)", "CutMix", ..."""
  alpha = f" (α={config.mixup_alpha:g})" if config.mix in _WITH_MIXUP_ALPHA else ""
  return LABELS.get(config.mix, config.mix) + alpha


def settings(
  config: ml_collections.ConfigDict, mixes: Sequence[str]
) -> list[tuple[str, ml_collections.ConfigDict]]:
  """One copy of `config` per value of `config.mix`, each with its :func:`method_label`.

  Raises:
    config.ConfigError: a copy is not a valid config (an unknown mix, ...), before any of
      them trains.
  """
  copies = []
  for mix in mixes:
    copy = config.copy_and_resolve_references()
    copy.mix = mix
    config_lib.validate(copy)
    copies.append((method_label(copy), copy))
  return copies


def parse_seeds(values: Sequence[str]) -> list[int]:
  """The `--seeds` flag's values as ints (a ConfigError naming the flag otherwise)."""
  try:
    return [int(value) for value in values]
  except ValueError as error:
    raise config_lib.ConfigError(
      f"--seeds must be comma-separated ints, e.g. --seeds=0,1,2, got {','.join(values)!r}."
    ) from error


def format_table(rows: Sequence[tuple[str, dict[str, Any]]]) -> str:
  """A markdown table of run summaries (`loop.train_and_evaluate`), one row per setting."""
  header = (
    "method",
    "best test acc",
    "last test acc",
    "median last-10 error",
    "images/sec",
    "wall s",
  )
  cells = [
    (
      name,
      f"{100 * s['best_test_accuracy']:.2f}%",
      f"{100 * s['last_test_accuracy']:.2f}%",
      f"{100 * s['median_last10_test_error']:.2f}%",
      f"{s['images_per_sec']:,.0f}",
      f"{s['wall_seconds']:.1f}",
    )
    for name, s in rows
  ]
  return reporting.markdown_table(header, cells)


def compare_mixes(
  config: ml_collections.ConfigDict, workdir: str, mixes: Sequence[str]
) -> list[tuple[str, dict[str, Any]]]:
  """Trains `config` once per value of `config.mix`, in `workdir/<mix>`, and tabulates them.

  Args:
    config: the run's config; only `mix` changes between the settings.
    workdir: the parent directory; `workdir/comparison.md` gets the table.
    mixes: the values of `config.mix` to train, in table order.

  Returns:
    `(method label, summary)` per setting, as in the table.
  """
  rows = []
  for label, setting in settings(config, mixes):
    print(f"--- {label}: {setting.dataset}, {setting.model}", flush=True)
    rows.append((label, loop.train_and_evaluate(setting, os.path.join(workdir, setting.mix))))
  table = format_table(rows)
  print("\n" + table)
  with open(os.path.join(workdir, "comparison.md"), "w") as f:
    f.write(table + "\n")
  return rows


def last_record(workdir: str) -> dict[str, Any]:
  """The last line of `workdir/metrics.jsonl`."""
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    return [json.loads(line) for line in f if line.strip()][-1]


def format_seed_table(rows: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> str:
  """A markdown table of mean ± std over seeds, one row per `(label, per-seed summaries)`.

  Each summary also holds `test_ece` and `test_nll` (the last epoch's, see
  :func:`compare_seeds`).
  """
  header = (
    "method",
    "seeds",
    "best test acc",
    "last test acc",
    "test ECE",
    "test NLL",
    "wall s / run",
  )

  def cell(runs, key, digits, scale=1.0):
    return reporting.format_mean_std([r[key] for r in runs], digits, scale=scale)

  cells = [
    (
      name,
      str(len(runs)),
      cell(runs, "best_test_accuracy", 2, 100) + "%",
      cell(runs, "last_test_accuracy", 2, 100) + "%",
      cell(runs, "test_ece", 3),
      cell(runs, "test_nll", 3),
      f"{sum(r['wall_seconds'] for r in runs) / len(runs):.1f}",  # The mean over the seeds.
    )
    for name, runs in rows
  ]
  return reporting.markdown_table(header, cells)


def format_published(dataset: str) -> str:
  """The published accuracies of `dataset` as a one-row table ("" if none are known)."""
  if dataset not in PUBLISHED:
    return ""
  published = PUBLISHED[dataset]
  row = [dataset] + [f"{value}%" for value in published.values()]
  table = reporting.markdown_table(["published (MNIST-1D README)", *published], [row])
  return table


def compare_seeds(
  config: ml_collections.ConfigDict, workdir: str, mixes: Sequence[str], seeds: Sequence[int]
) -> list[tuple[str, list[dict[str, Any]]]]:
  """Trains `config` once per mix and seed, in `workdir/<mix>/seed<k>`, and tabulates them.

  Args:
    config: the run's config; only `mix` and `seed` change between the runs.
    workdir: the parent directory; `workdir/comparison.md` gets the tables.
    mixes: the values of `config.mix` to train, in table order.
    seeds: the seeds of each setting.

  Returns:
    `(method label, per-seed summaries)` per setting; each summary has the last epoch's
    `test_ece` and `test_nll` added.
  """
  rows = []
  for label, setting in settings(config, mixes):
    runs = []
    for seed in seeds:
      setting.seed = int(seed)
      print(f"--- {label} seed {seed}: {setting.dataset}, {setting.model}", flush=True)
      run_dir = os.path.join(workdir, setting.mix, f"seed{seed}")
      summary = loop.train_and_evaluate(setting, run_dir)
      last = last_record(run_dir)
      runs.append({**summary, "test_ece": last["test_ece"], "test_nll": last["test_nll"]})
    rows.append((label, runs))
  text = format_seed_table(rows)
  published = format_published(config.dataset)
  text += f"\n\n{published}" if published else ""
  print("\n" + text)
  with open(os.path.join(workdir, "comparison.md"), "w") as f:
    f.write(text + "\n")
  return rows


def main(argv):
  cli.start(argv)
  seeds = parse_seeds(flags.FLAGS.seeds)
  if seeds:
    compare_seeds(flags.FLAGS.config, flags.FLAGS.workdir, flags.FLAGS.mixes, seeds)
  else:
    compare_mixes(flags.FLAGS.config, flags.FLAGS.workdir, flags.FLAGS.mixes)


if __name__ == "__main__":
  cli.define_flags(workdir_help="Parent directory; each setting trains in a subdirectory.")
  flags.DEFINE_list("mixes", ["none", "mixup"], "Values of config.mix to compare.")
  flags.DEFINE_list("seeds", [], "Seeds per setting (mean ± std); empty: config.seed only.")
  cli.run(main)
