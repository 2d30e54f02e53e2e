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
from mixjax.experiments import runs

PAPER_CIFAR10 = {  # (best, last) test error %, Table 2.
  0.2: {"ERM": (12.7, 16.6), "mixup (α=8)": (5.9, 6.4)},
  0.5: {"ERM": (18.8, 44.6), "mixup (α=32)": (11.3, 12.7)},
  0.8: {"ERM": (36.5, 73.9), "mixup (α=32)": (25.3, 30.9)},
}


def methods(alphas: Sequence[float], dropout: float) -> list[tuple[str, dict[str, Any]]]:
  """(label, config overrides) of every method."""
  out = [
    ("ERM", {"mix": "none"}),
    (f"ERM + dropout {dropout:g}", {"mix": "none", "dropout_rate": dropout}),
  ]
  out += [(f"mixup (α={a:g})", {"mix": "mixup", "mixup_alpha": float(a)}) for a in alphas]
  out.append(
    (
      f"mixup (α={alphas[-1]:g}) + dropout {dropout:g}",
      {"mix": "mixup", "mixup_alpha": float(alphas[-1]), "dropout_rate": dropout},
    )
  )
  return out


def run(
  out_dir: str,
  *,
  quick: bool = False,
  seeds: Sequence[int] = (0, 1),
  noise_levels: Sequence[float] = (0.2, 0.5, 0.8),
  alphas: Sequence[float] = (1.0, 8.0, 32.0),
  dropout: float = 0.5,
  dataset: str = "digits",
  model: str = "mlp",
  epochs: int = 60,
  milestones: Sequence[int] = (40,),
  batch_size: int = 64,
  learning_rate: float = 0.05,
  augment: str = "none",
) -> dict[str, Any]:
  """Runs the grid noise level × method × seed and writes the tables and plots."""
  if quick:
    seeds, noise_levels, alphas, epochs, milestones = (0,), (0.5,), (8.0,), 3, (2,)
  grid = methods(alphas, dropout)
  progress = common.Progress("corrupted_labels", len(noise_levels) * len(grid) * len(seeds))
  results: list[dict[str, Any]] = []
  for noise in noise_levels:
    for label, overrides in grid:
      for seed in seeds:
        progress.start_run(f"noise={noise:g} {label} seed={seed}")
        config = runs.base_config(
          dataset=dataset,
          model=model,
          num_epochs=epochs,
          lr_milestones=tuple(milestones),
          batch_size=batch_size,
          learning_rate=learning_rate,
          augment=augment,
          label_noise=float(noise),
          seed=int(seed),
          **overrides,
        )
        name = f"noise{noise:g}_{label.replace(' ', '_')}_seed{seed}"
        summary, records = runs.train_once(config, os.path.join(out_dir, "runs", name))
        results.append(
          {
            "noise": noise,
            "method": label,
            "seed": seed,
            "best_error": 1 - summary["best_test_accuracy"],
            "last_error": 1 - summary["last_test_accuracy"],
            "final_train_accuracy": records[-1]["train_accuracy"],
            "test_error_curve": [1 - r["test_accuracy"] for r in records],
            "wall_seconds": summary["wall_seconds"],
          }
        )
        progress.note(
          f"best {100 * results[-1]['best_error']:.1f}%  "
          f"last {100 * results[-1]['last_error']:.1f}%"
        )
  table = results_table(results, noise_levels, [m for m, _ in grid])
  _plot(os.path.join(out_dir, "test_error_curves.png"), results, noise_levels, grid)
  setup = (
    f"{dataset}, {model}, {epochs} epochs (lr {learning_rate:g} ×0.1 at "
    f"{list(milestones)}), batch {batch_size}, seeds {list(seeds)}"
  )
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


def _plot(path, results, noise_levels, grid) -> None:
  plt = common.pyplot()
  fig, axes = plt.subplots(
    1, len(noise_levels), figsize=(4.5 * len(noise_levels), 3.6), squeeze=False
  )
  for ax, noise in zip(axes[0], noise_levels, strict=True):
    for label, _ in grid:
      curves = [
        r["test_error_curve"] for r in results if r["method"] == label and r["noise"] == noise
      ]
      mean = 100 * np.mean(np.asarray(curves), axis=0)
      ax.plot(np.arange(1, len(mean) + 1), mean, label=label)
    ax.set(title=f"{100 * noise:g}% corrupted labels", xlabel="epoch", ylabel="test error %")
    ax.grid(alpha=0.3)
  axes[0][0].legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def add_arguments(parser: argparse.ArgumentParser) -> None:
  parser.add_argument("--noise_levels", type=runs.floats, help="e.g. 0.2,0.5,0.8")
  parser.add_argument("--alphas", type=runs.floats, help="mixup α values, e.g. 1,8,32")
  parser.add_argument("--dropout", type=float, help="dropout rate of the dropout methods")
  runs.add_recipe_arguments(parser)
