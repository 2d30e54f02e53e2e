"""mixup against memorisation of corrupted labels (Zhang et al. 2017, section 3.4, Table 2).

A fraction of the training labels (20%, 50%, 80%) is replaced by uniformly random classes
(`config.label_noise`, fixed by the seed; the test labels stay clean). ERM with enough
training memorises the noise: its test error at the end is far above its best. The
paper's claim is that mixup, with a large α, keeps the last-epoch error close to the best.

Methods: ERM, ERM + dropout, mixup at several α, mixup + dropout. Reported per method
and noise level: best-epoch and last-epoch test error, mean ± std over seeds, and a plot
of test error per epoch. For reference, the paper's CIFAR-10 PreAct ResNet-18 numbers
(best / last test error, %): 20% noise: ERM 12.7 / 16.6, mixup (α=8) 5.9 / 6.4;
50%: ERM 18.8 / 44.6, mixup (α=32) 11.3 / 12.7; 80%: ERM 36.5 / 73.9, mixup (α=32)
25.3 / 30.9.

Run (offline, scikit-learn digits):
  python -m mixjax.experiments corrupted_labels --out runs/corrupted_labels
On MNIST-1D (offline; the benchmark's CNN and Adam recipe of
:data:`mixjax.experiments.recipes.RECIPES`, trained 60 epochs, lr ÷10 after 40):
  python -m mixjax.experiments corrupted_labels --out runs/corrupted_labels_mnist1d \
      --dataset mnist1d
The paper's setting, where CIFAR-10 and a GPU exist:
  python -m mixjax.experiments corrupted_labels --out runs/cl_c10 --dataset cifar10 \
      --model preact_resnet18 --epochs 200 --augment crop_flip --batch_size 128 \
      --learning_rate 0.1 --milestones 100,150
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

PAPER_CIFAR10 = {  # (best, last) test error %, Table 2.
  0.2: {"ERM": (12.7, 16.6), "mixup (α=8)": (5.9, 6.4)},
  0.5: {"ERM": (18.8, 44.6), "mixup (α=32)": (11.3, 12.7)},
  0.8: {"ERM": (36.5, 73.9), "mixup (α=32)": (25.3, 30.9)},
}
RECIPE = runs.Recipe(model="mlp", epochs=60, milestones=(40,))  # Digits, MLP, lr 0.05.
# The quick version's options (`common.quick_defaults`: those passed are kept).
QUICK = dict(seeds=(0,), noise_levels=(0.5,), alphas=(8.0,), epochs=3, milestones=(2,))
MNIST1D_SCHEDULE = dict(epochs=60, milestones=(40,))  # Long enough for ERM to memorise.


def base_recipe(dataset: str) -> recipes.DatasetRecipe:
  """MNIST-1D's recipe (60 epochs) for `mnist1d*`, else :data:`RECIPE` (digits' MLP)."""
  if dataset in recipes.MNIST1D:
    return recipes.get(dataset).replace("corrupted_labels", **MNIST1D_SCHEDULE)
  return recipes.DatasetRecipe(RECIPE)


def methods(alphas: Sequence[float], dropout: float) -> list[runs.Method]:
  """ERM, ERM + dropout, mixup at each α and mixup at the last α + dropout."""
  with_dropout = {"dropout_rate": dropout}
  last = runs.mixup(alphas[-1])
  return [
    runs.erm(),
    runs.Method(f"ERM + dropout {dropout:g}", {**runs.erm().overrides, **with_dropout}),
    *(runs.mixup(a) for a in alphas),
    runs.Method(f"{last.label} + dropout {dropout:g}", {**last.overrides, **with_dropout}),
  ]


def grid(
  noise_levels: Sequence[float],
  grid_methods: Sequence[runs.Method],
  seeds: Sequence[int],
  recipe: runs.Recipe | recipes.DatasetRecipe,
) -> list[runs.Run]:
  """One run per noise level × method × seed, in `runs/noise<p>_<method>_seed<k>`."""
  specs = []
  for noise in noise_levels:
    for method in grid_methods:
      for seed in seeds:
        name = f"noise{noise:g}_{method.label.replace(' ', '_')}_seed{seed}"
        config = recipe.config(label_noise=float(noise), seed=int(seed), **method.overrides)
        specs.append(
          runs.Run(
            workdir=os.path.join("runs", name),
            description=f"noise={noise:g} {method.label} seed={seed}",
            config=config,
            fields={"noise": noise, "method": method.label, "seed": seed},
          )
        )
  return specs


def _result(spec: runs.Run, trained: runs.Trained) -> dict[str, Any]:
  return {
    **spec.fields,
    "best_error": trained.best_error,
    "last_error": trained.last_error,
    "final_train_accuracy": trained.records[-1]["train_accuracy"],
    "test_error_curve": [1 - r["test_accuracy"] for r in trained.records],
    "wall_seconds": trained.summary["wall_seconds"],
  }


def _note(trained: runs.Trained) -> str:
  return f"best {100 * trained.best_error:.1f}%  last {100 * trained.last_error:.1f}%"


@common.quick_defaults(QUICK, together=[("epochs", "milestones")])
def run(
  out_dir: str,
  *,
  quick: bool = False,
  seeds: Sequence[int] = (0, 1),
  noise_levels: Sequence[float] = (0.2, 0.5, 0.8),
  alphas: Sequence[float] = (1.0, 8.0, 32.0),
  dropout: float = 0.5,
  **recipe: Any,
) -> dict[str, Any]:
  """Runs the grid noise level × method × seed and writes the tables and plots.

  Args:
    out_dir: output directory (created); each run trains in `out_dir/runs/<name>`.
    quick: a tiny version (one seed, 50% noise, α = 8, 3 epochs). Options passed
      explicitly are kept (`QUICK` fills the others).
    seeds: seeds to run.
    noise_levels: fractions of corrupted training labels.
    alphas: mixup's α values.
    dropout: the dropout rate of the dropout methods.
    **recipe: :class:`runs.Recipe` fields (dataset, model, epochs, milestones,
      batch_size, learning_rate, augment) replacing those of :func:`base_recipe`
      (`dataset`'s recipe).

  Returns:
    `{"runs": per-run results, "table": the markdown table}`.
  """
  recipe = base_recipe(recipe.get("dataset", RECIPE.dataset)).replace("corrupted_labels", **recipe)
  grid_methods = methods(alphas, dropout)
  specs = grid(noise_levels, grid_methods, seeds, recipe)
  progress = common.Progress("corrupted_labels", len(specs))
  trained = runs.train_all(out_dir, specs, progress, note=_note)
  results = [_result(spec, t) for spec, t in zip(specs, trained, strict=True)]
  labels = [m.label for m in grid_methods]
  table = results_table(results, noise_levels, labels)
  _plot(os.path.join(out_dir, "test_error_curves.png"), results, noise_levels, labels)
  setup = f"{recipe.describe()}, seeds {list(seeds)}"
  markdown = (
    f"# Corrupted labels\n\n{setup}\n\nTest error (%), best epoch / last epoch, "
    f"mean ± std over seeds.\n\n{table}\n\n![curves](test_error_curves.png)\n"
  )
  common.write_results(
    out_dir, {"setup": setup, "runs": results, "paper_cifar10": PAPER_CIFAR10}, markdown
  )
  print(table, flush=True)
  return {"runs": results, "table": table}


def results_table(results, noise_levels, method_names) -> str:
  rows = []
  for method in method_names:
    row = [method]
    for noise in noise_levels:
      sel = [r for r in results if r["method"] == method and r["noise"] == noise]
      row.append(
        f"{common.format_mean_std([r['best_error'] for r in sel], 1, scale=100)} / "
        f"{common.format_mean_std([r['last_error'] for r in sel], 1, scale=100)}"
      )
    rows.append(row)
  return common.markdown_table(["method"] + [f"{100 * n:g}% noise" for n in noise_levels], rows)


def _plot(path, results, noise_levels, labels) -> None:
  plt = common.pyplot()
  fig, axes = plt.subplots(
    1, len(noise_levels), figsize=(4.5 * len(noise_levels), 3.6), squeeze=False
  )
  for ax, noise in zip(axes[0], noise_levels, strict=True):
    for label in labels:
      curves = [
        r["test_error_curve"] for r in results if r["method"] == label and r["noise"] == noise
      ]
      mean = 100 * np.mean(np.asarray(curves), axis=0)
      ax.plot(np.arange(1, len(mean) + 1), mean, label=label)
    ax.set(title=f"{100 * noise:g}% corrupted labels", xlabel="epoch", ylabel="test error %")
    ax.grid(alpha=0.3)
  axes[0][0].legend(fontsize=7)
  common.save_figure(fig, path)


def add_arguments(parser: argparse.ArgumentParser) -> None:
  """Command-line options of `python -m mixjax.experiments corrupted_labels`."""
  floats = options.comma_list(float)
  options.add(parser, "--noise_levels", type=floats, help="e.g. 0.2,0.5,0.8")
  options.add(parser, "--alphas", type=floats, help="mixup α values, e.g. 1,8,32")
  options.add(parser, "--dropout", type=float, help="dropout rate of the dropout methods")
  runs.add_recipe_arguments(parser)
