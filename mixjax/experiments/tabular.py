"""ERM vs mixup on small tables (Zhang et al. 2017, section 3.7, UCI datasets).

The paper trains small fully connected networks on UCI tables and reports test error
for ERM and mixup. Here, offline: the UCI tables that scikit-learn bundles (iris, wine,
breast_cancer), stratified 70/30 splits by seed, inputs standardised with the training
statistics, the package's MLP (two hidden layers of 256 ReLU units) with Adam, and the
last-epoch test error, mean ± std over seeds. No paper number is quoted: its tables are
other UCI sets.

Run:  python -m mixjax.experiments tabular --out runs/tabular
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

from mixjax.experiments import common
from mixjax.experiments import runs

DATASETS = ("iris", "wine", "breast_cancer")


def run(
  out_dir: str,
  *,
  quick: bool = False,
  seeds: Sequence[int] = (0, 1, 2, 3, 4),
  datasets: Sequence[str] = DATASETS,
  alpha: float = 1.0,
  epochs: int = 100,
  batch_size: int = 32,
  learning_rate: float = 1e-3,
) -> dict[str, Any]:
  """Trains ERM and mixup MLPs on every table and seed; writes the table and a plot."""
  if quick:
    seeds, datasets, epochs = (0,), ("iris",), 5
  methods = {"ERM": {"mix": "none"}, f"mixup (α={alpha:g})": {"mix": "mixup", "mixup_alpha": alpha}}
  progress = common.Progress("tabular", len(datasets) * len(methods) * len(seeds))
  results = []
  for dataset in datasets:
    for label, overrides in methods.items():
      for seed in seeds:
        progress.start_run(f"{dataset} {label} seed={seed}")
        config = runs.base_config(
          dataset=dataset,
          model="mlp",
          num_epochs=epochs,
          batch_size=batch_size,
          optimizer="adam",
          learning_rate=learning_rate,
          weight_decay=0.0,
          lr_milestones=(),
          seed=int(seed),
          **overrides,
        )
        name = f"{dataset}_{label.split(' ')[0]}_seed{seed}"
        summary, _ = runs.train_once(config, os.path.join(out_dir, "runs", name))
        results.append(
          {
            "dataset": dataset,
            "method": label,
            "seed": seed,
            "test_error": 1 - summary["last_test_accuracy"],
            "wall_seconds": summary["wall_seconds"],
          }
        )
        progress.note(f"test error {100 * results[-1]['test_error']:.2f}%")
  rows = [
    [d]
    + [
      common.format_mean_std(
        [r["test_error"] for r in results if r["dataset"] == d and r["method"] == m], 2, scale=100
      )
      for m in methods
    ]
    for d in datasets
  ]
  table = common.markdown_table(["dataset"] + [f"{m} test error %" for m in methods], rows)
  _plot(os.path.join(out_dir, "tabular.png"), results, datasets, list(methods))
  setup = (
    f"MLP (256, 256), Adam lr {learning_rate:g}, {epochs} epochs, batch {batch_size}, "
    f"seeds {list(seeds)}; last-epoch test error"
  )
  markdown = f"# Tabular data\n\n{setup}\n\n{table}\n\n![tabular](tabular.png)\n"
  common.write_results(out_dir, {"setup": setup, "runs": results}, markdown)
  print(table, flush=True)
  return {"runs": results, "table": table}


def _plot(path, results, datasets, methods) -> None:
  import numpy as np

  plt = common.pyplot()
  fig, ax = plt.subplots(figsize=(6, 3.5))
  width = 0.8 / len(methods)
  for i, method in enumerate(methods):
    values = [
      [100 * r["test_error"] for r in results if r["dataset"] == d and r["method"] == method]
      for d in datasets
    ]
    ax.bar(
      np.arange(len(datasets)) + i * width,
      [np.mean(v) for v in values],
      width,
      yerr=[np.std(v) for v in values],
      label=method,
      capsize=3,
    )
  ax.set_xticks(np.arange(len(datasets)) + width * (len(methods) - 1) / 2, datasets)
  ax.set(ylabel="test error %", title="ERM vs mixup on tables")
  ax.legend()
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def add_arguments(parser: argparse.ArgumentParser) -> None:
  parser.add_argument(
    "--datasets", type=lambda s: tuple(s.split(",")), help="comma list of iris,wine,breast_cancer"
  )
  parser.add_argument("--alpha", type=float)
  parser.add_argument("--epochs", type=int)
  parser.add_argument("--batch_size", type=int)
  parser.add_argument("--learning_rate", type=float)
