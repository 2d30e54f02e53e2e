"""Does mixup generalise better than ERM? Test accuracy against α on MNIST-1D and digits.

The mixup paper's first claim (Zhang et al. 2018, §3.1-3.2: lower test error than ERM
on ImageNet and CIFAR) checked where it runs offline: MNIST-1D (Greydanus & Kobak
2020, the benchmark's CNN), the same with its 40 positions shuffled, and scikit-learn's
digits. Methods: ERM, mixup at α in {0.1, 0.2, 0.4, 1, 2}, label smoothing 0.1 and
mixup (α=0.4) + label smoothing 0.1, and CutMix (α=1: segments of the 1-D signals, boxes
of the digits images); each dataset's recipe is :data:`mixjax.experiments.recipes.RECIPES`.

Reported: last-epoch test accuracy, mean ± std over seeds, per method and dataset, the
gain of each method over ERM, and a plot of test accuracy against α (ERM and the label
smoothing methods as horizontal lines). `results.md` says plainly where mixup does not
beat ERM by more than a standard deviation.

Run (offline; 3 datasets × 9 methods × 5 seeds = 135 runs):
  python -m mixjax.experiments generalization --out runs/generalization
Quick form (what CI runs): `--quick`, MNIST-1D, ERM and mixup (α=0.4), 1 seed, 2 epochs.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from mixjax.experiments import common
from mixjax.experiments import options
from mixjax.experiments import recipes
from mixjax.experiments import runs

DATASETS = ("mnist1d", "mnist1d_shuffle", "digits")
ALPHAS = (0.1, 0.2, 0.4, 1.0, 2.0)
SMOOTHING = 0.1
CUTMIX_ALPHA = 1.0
# The quick version's options (`common.quick_defaults`: those passed are kept) and epochs.
QUICK = dict(seeds=(0,), datasets=("mnist1d",), alphas=(0.4,))
QUICK_EPOCHS = 2


def methods(
  alphas: Sequence[float], *, smoothing: float = SMOOTHING, cutmix_alpha: float = CUTMIX_ALPHA
) -> list[runs.Method]:
  """ERM, mixup at each α, label smoothing, mixup (α = 0.4 or the middle α) + smoothing, CutMix.

  A zero `smoothing` or `cutmix_alpha` leaves that method out.
  """
  middle = 0.4 if 0.4 in alphas else alphas[len(alphas) // 2]
  grid = [runs.erm(), *(runs.mixup(a) for a in alphas)]
  if smoothing > 0:
    grid += [recipes.label_smoothing(smoothing), recipes.mixup_smoothed(middle, smoothing)]
  if cutmix_alpha > 0:
    grid.append(runs.cutmix(cutmix_alpha))
  return grid


def grid(
  datasets: Sequence[str],
  grid_methods: Sequence[runs.Method],
  seeds: Sequence[int],
  epochs: int | None = None,
) -> list[runs.Run]:
  """One run per dataset × method × seed, in `runs/<dataset>_<method>_seed<k>`."""
  specs = []
  for dataset in datasets:
    recipe = recipes.get(dataset)
    recipe = recipe if epochs is None else recipe.quick(epochs)
    for method in grid_methods:
      for seed in seeds:
        name = f"{dataset}_{method.label.replace(' ', '_')}_seed{seed}"
        specs.append(
          runs.Run(
            workdir=os.path.join("runs", name),
            description=f"{dataset} {method.label} seed={seed}",
            config=recipe.config(seed=int(seed), **method.overrides),
            fields={"dataset": dataset, "method": method.label, "seed": seed},
          )
        )
  return specs


def _result(spec: runs.Run, trained: runs.Trained) -> dict[str, Any]:
  last = trained.records[-1]
  return {
    **spec.fields,
    "alpha": spec.config.mixup_alpha if spec.config.mix == "mixup" else 0.0,
    "last_accuracy": trained.summary["last_test_accuracy"],
    "best_accuracy": trained.summary["best_test_accuracy"],
    "test_ece": last["test_ece"],
    "test_nll": last["test_nll"],
    "wall_seconds": trained.summary["wall_seconds"],
  }


def _accuracies(results, dataset, method) -> list[float]:
  return [r["last_accuracy"] for r in results if r["dataset"] == dataset and r["method"] == method]


def results_table(results, datasets, labels) -> str:
  """Last-epoch test accuracy (%), mean ± std over seeds; the gain over ERM in brackets."""
  rows = []
  for label in labels:
    row = [label]
    for dataset in datasets:
      accuracies = _accuracies(results, dataset, label)
      gain = 100 * (np.mean(accuracies) - np.mean(_accuracies(results, dataset, "ERM")))
      cell = common.format_mean_std(accuracies, 2, scale=100)
      row.append(cell if label == "ERM" else f"{cell} ({gain:+.2f})")
    rows.append(row)
  return common.markdown_table(["method", *datasets], rows)


def verdicts(results, datasets, labels) -> list[str]:
  """One sentence per dataset: the best method, and whether any mixup beats ERM by > 1 std."""
  lines = []
  for dataset in datasets:
    erm_mean, erm_std = common.mean_std(_accuracies(results, dataset, "ERM"))
    means = {label: np.mean(_accuracies(results, dataset, label)) for label in labels}
    best = max(means, key=means.get)
    winners = [
      label
      for label in labels
      if label.startswith("mixup") and means[label] - erm_mean > max(erm_std, 1e-12)
    ]
    verdict = (
      f"mixup beats ERM by more than ERM's std with {', '.join(winners)}"
      if winners
      else "mixup does NOT beat ERM by more than ERM's standard deviation at any α"
    )
    lines.append(f"- {dataset}: best {best} ({100 * means[best]:.2f}%); {verdict}.")
  return lines


def _plot(path, results, datasets, alphas) -> None:
  plt = common.pyplot()
  fig, axes = plt.subplots(1, len(datasets), figsize=(4.5 * len(datasets), 3.6), squeeze=False)
  for ax, dataset in zip(axes[0], datasets, strict=True):
    mixup = [_accuracies(results, dataset, runs.mixup(a).label) for a in alphas]
    mean = 100 * np.array([np.mean(m) for m in mixup])
    std = 100 * np.array([np.std(m) for m in mixup])
    ax.errorbar(alphas, mean, yerr=std, marker="o", capsize=3, label="mixup")
    lines = (
      ("ERM", "k--"),
      (recipes.label_smoothing(SMOOTHING).label, "g:"),
      (runs.cutmix(CUTMIX_ALPHA).label, "r-."),
    )
    for label, style in lines:
      accuracies = _accuracies(results, dataset, label)
      if accuracies:
        ax.axhline(100 * np.mean(accuracies), linestyle=style[1:], color=style[0], label=label)
    ax.set(xscale="log", title=dataset, xlabel="mixup α", ylabel="test accuracy %")
    ax.grid(alpha=0.3)
  axes[0][0].legend(fontsize=7)
  common.save_figure(fig, path)


@common.quick_defaults(QUICK)
def run(
  out_dir: str,
  *,
  quick: bool = False,
  seeds: Sequence[int] = (0, 1, 2, 3, 4),
  datasets: Sequence[str] = DATASETS,
  alphas: Sequence[float] = ALPHAS,
) -> dict[str, Any]:
  """Runs the grid dataset × method × seed and writes the table, verdicts and plot.

  Args:
    out_dir: output directory (created); each run trains in `out_dir/runs/<name>`.
    quick: a tiny version (MNIST-1D, ERM and mixup α = 0.4, 1 seed, 2 epochs). Options passed
      explicitly are kept (`QUICK` fills the others).
    seeds: seeds to run.
    datasets: datasets of :data:`mixjax.experiments.recipes.RECIPES`.
    alphas: mixup's α values.

  Returns:
    `{"runs": per-run results, "table": the markdown table, "verdicts": lines}`.
  """
  epochs = None
  grid_methods = methods(alphas)
  if quick:
    epochs, grid_methods = QUICK_EPOCHS, methods(alphas, smoothing=0.0, cutmix_alpha=0.0)
  specs = grid(datasets, grid_methods, seeds, epochs)
  progress = common.Progress("generalization", len(specs))
  note = lambda t: f"test acc {100 * t.summary['last_test_accuracy']:.2f}%"  # noqa: E731
  trained = runs.train_all(out_dir, specs, progress, note=note)
  results = [_result(spec, t) for spec, t in zip(specs, trained, strict=True)]
  labels = [m.label for m in grid_methods]
  table = results_table(results, datasets, labels)
  lines = verdicts(results, datasets, labels)
  _plot(os.path.join(out_dir, "accuracy_vs_alpha.png"), results, datasets, alphas)
  setup = "; ".join(f"{d}: {recipes.get(d).describe()}" for d in datasets)
  setup += f"; seeds {list(seeds)}" + (f"; {epochs} epochs (quick)" if quick else "")
  markdown = (
    f"# Generalization: ERM vs mixup\n\n{setup}\n\nLast-epoch test accuracy (%), mean ± std "
    f"over seeds (gain over ERM).\n\n{table}\n\n" + "\n".join(lines) + "\n\n"
    "![accuracy vs alpha](accuracy_vs_alpha.png)\n"
  )
  common.write_results(out_dir, {"setup": setup, "runs": results, "verdicts": lines}, markdown)
  print(table + "\n" + "\n".join(lines), flush=True)
  return {"runs": results, "table": table, "verdicts": lines}


def add_arguments(parser: argparse.ArgumentParser) -> None:
  """Command-line options of `python -m mixjax.experiments generalization`."""
  options.add(parser, "--datasets", type=options.comma_list(str), help="e.g. mnist1d,digits")
  options.add(parser, "--alphas", type=options.comma_list(float), help="e.g. 0.1,0.4,1")
