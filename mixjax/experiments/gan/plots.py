"""The three figures: final samples, samples during training, covered modes vs step."""

from __future__ import annotations

from typing import Any

import numpy as np

from mixjax.experiments import common
from mixjax.experiments.gan.config import GanConfig
from mixjax.experiments.gan.config import method_label
from mixjax.experiments.gan.data import DATASETS
from mixjax.experiments.gan.data import Dataset
from mixjax.experiments.gan.metrics import select
from mixjax.experiments.gan.trainer import snapshot_points


def _scatter(ax, samples: np.ndarray, data: Dataset, title: str) -> None:
  """Generated samples (blue) and the true modes (red x) on one panel."""
  limit = float(np.abs(data.modes).max()) * 1.5
  ax.scatter(samples[:, 0], samples[:, 1], s=1.5, alpha=0.35, color="tab:blue", linewidths=0)
  ax.scatter(data.modes[:, 0], data.modes[:, 1], s=30, marker="x", color="tab:red", linewidths=1.0)
  ax.set_xlim(-limit, limit)
  ax.set_ylim(-limit, limit)
  ax.set_aspect("equal")
  ax.set_xticks([])
  ax.set_yticks([])
  ax.set_title(title, fontsize=7)


def _sample_panels(plt, config: GanConfig, num_cols: int):
  """A figure with one row per (dataset, method), labelled, and `num_cols` columns."""
  row_keys = [(d, m) for d in config.datasets for m in config.methods]
  fig, axes = plt.subplots(
    len(row_keys),
    num_cols,
    squeeze=False,
    figsize=(1.7 * num_cols + 0.6, 1.8 * len(row_keys)),
  )
  for i, (dataset, method) in enumerate(row_keys):
    axes[i, 0].set_ylabel(f"{dataset}\n{method_label(method, config)}", fontsize=8)
  return fig, axes, row_keys


def _index(runs: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
  return {(r["dataset"], r["method"], r["latent_dim"], r["seed"]): r for r in runs}


def plot_samples(path: str, config: GanConfig, runs: list[dict[str, Any]]) -> None:
  """Rows: dataset × method; columns: latent dim × seed; final samples and true modes."""
  plt = common.pyplot()
  col_keys = [(z, s) for z in config.latent_dims for s in config.seeds]
  fig, axes, row_keys = _sample_panels(plt, config, len(col_keys))
  index = _index(runs)
  for i, (dataset, method) in enumerate(row_keys):
    data = DATASETS[dataset]()
    for j, (latent_dim, seed) in enumerate(col_keys):
      run = index[(dataset, method, latent_dim, seed)]
      final = run["final"]
      title = (
        f"z={latent_dim} seed={seed}\n{final['modes']}/{len(data.modes)} modes, "
        f"{100 * final['high_quality']:.0f}% hq"
      )
      _scatter(axes[i, j], run["snapshots"][config.steps], data, title)
  fig.suptitle(f"Samples after {config.steps} generator steps (red x: true modes)", fontsize=9)
  common.save_figure(fig, path)


def plot_snapshots(path: str, config: GanConfig, runs: list[dict[str, Any]]) -> None:
  """Like the paper's Figure 5: samples during training, seed and z dim fixed."""
  plt = common.pyplot()
  seed, latent_dim = config.seeds[0], config.latent_dims[0]
  points = snapshot_points(config.steps)
  fig, axes, row_keys = _sample_panels(plt, config, len(points))
  index = _index(runs)
  for i, (dataset, method) in enumerate(row_keys):
    data = DATASETS[dataset]()
    run = index[(dataset, method, latent_dim, seed)]
    for j, point in enumerate(points):
      _scatter(axes[i, j], run["snapshots"][point], data, f"step {point}")
  fig.suptitle(f"Samples during training (seed {seed}, z={latent_dim})", fontsize=9)
  common.save_figure(fig, path)


def _plot_modes(ax, config: GanConfig, runs: list[dict[str, Any]], dataset: str) -> None:
  """One dataset's covered modes vs step: per method and z, mean line, min-max band."""
  styles = ["-", "--", ":", "-."]
  for method, color in zip(config.methods, ["tab:gray", "tab:blue"], strict=False):
    for latent_dim, style in zip(config.latent_dims, styles * 4, strict=False):
      group = select(runs, dataset=dataset, method=method, latent_dim=latent_dim)
      steps = [c["step"] for c in group[0]["curve"]]
      values = np.array([[c["modes"] for c in r["curve"]] for r in group], np.float64)
      label = f"{method_label(method, config)}, z={latent_dim}"
      ax.plot(steps, values.mean(0), style, color=color, label=label)
      ax.fill_between(steps, values.min(0), values.max(0), color=color, alpha=0.12)
  num_modes = group[0]["num_modes"]
  ax.set_xscale("log")
  ax.set_xlabel("generator step")
  ax.set_ylabel("modes covered")
  ax.set_ylim(0, num_modes + 0.5)
  ax.set_title(f"{dataset} ({num_modes} modes)", fontsize=9)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)


def plot_curves(path: str, config: GanConfig, runs: list[dict[str, Any]]) -> None:
  """Covered modes vs generator step: mean over seeds, band from min to max."""
  plt = common.pyplot()
  fig, axes = plt.subplots(
    1, len(config.datasets), squeeze=False, figsize=(4.5 * len(config.datasets), 3.2)
  )
  for j, dataset in enumerate(config.datasets):
    _plot_modes(axes[0, j], config, runs, dataset)
  common.save_figure(fig, path)
