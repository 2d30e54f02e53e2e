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
from mixjax.experiments import options
from mixjax.experiments import runs

DATASETS = ("iris", "wine", "breast_cancer")


def grid(
  datasets: Sequence[str],
  methods: Sequence[runs.Method],
  seeds: Sequence[int],
  *,
  epochs: int,
  batch_size: int,
  learning_rate: float,
) -> list[runs.Run]:
  """One MLP run per table × method × seed, in `runs/<table>_<ERM|mixup>_seed<k>`."""
  specs = []
  for dataset in datasets:
    for method in methods:
      for seed in seeds:
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
          **method.overrides,
        )
        specs.append(
          runs.Run(
            workdir=os.path.join("runs", f"{dataset}_{method.label.replace(' ', '_')}_seed{seed}"),
            description=f"{dataset} {method.label} seed={seed}",
            config=config,
            fields={"dataset": dataset, "method": method.label, "seed": seed},
          )
        )
  return specs


def results_table(results, datasets, labels) -> str:
  """Rows: tables; columns: the methods' last-epoch test error %, mean ± std over seeds."""
  rows = [
    [d]
    + [
      common.format_mean_std(
        [r["test_error"] for r in results if r["dataset"] == d and r["method"] == m], 2, scale=100
      )
      for m in labels
    ]
    for d in datasets
  ]
  return common.markdown_table(["dataset"] + [f"{m} test error %" for m in labels], rows)


# The quick version's options (`common.quick_defaults`: those passed are kept).
QUICK = dict(seeds=(0,), datasets=("iris",), epochs=5)


@common.quick_defaults(QUICK)
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
  """Trains ERM and mixup MLPs on every table and seed; writes the table and a plot.

  `quick=True` trains iris, seed 0, 5 epochs; options passed explicitly are kept.
  """
  methods = [runs.erm(), runs.mixup(alpha)]
  specs = grid(
    datasets, methods, seeds, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate
  )
  progress = common.Progress("tabular", len(specs))
  note = lambda trained: f"test error {100 * trained.last_error:.2f}%"
  trained = runs.train_all(out_dir, specs, progress, note=note)
  results = [
    {**spec.fields, "test_error": t.last_error, "wall_seconds": t.summary["wall_seconds"]}
    for spec, t in zip(specs, trained, strict=True)
  ]
  labels = [m.label for m in methods]
  table = results_table(results, datasets, labels)
  _plot(os.path.join(out_dir, "tabular.png"), results, datasets, labels)
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
  common.save_figure(fig, path)


def add_arguments(parser: argparse.ArgumentParser) -> None:
  """Command-line options of `python -m mixjax.experiments tabular`."""
  datasets = options.comma_list(str)
  options.add(parser, "--datasets", type=datasets, help="comma list of iris,wine,breast_cancer")
  options.add(parser, "--alpha", type=float, help="mixup's α (default 1)")
  options.add(parser, "--epochs", type=int, help="training epochs (default 100)")
  options.add(parser, "--batch_size", type=int, help="batch size (default 32)")
  options.add(parser, "--learning_rate", type=float, help="Adam's learning rate (default 1e-3)")
