"""`run(out_dir, ...)`: plain and mixup GANs on the toy mixtures; results, table and plots."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from mixjax.experiments import common
from mixjax.experiments import options as option_lib
from mixjax.experiments.gan.config import GanConfig
from mixjax.experiments.gan.config import make_config
from mixjax.experiments.gan.config import method_alpha
from mixjax.experiments.gan.config import method_label
from mixjax.experiments.gan.data import DATASETS
from mixjax.experiments.gan.data import Dataset
from mixjax.experiments.gan.metrics import summarize
from mixjax.experiments.gan.plots import plot_curves
from mixjax.experiments.gan.plots import plot_samples
from mixjax.experiments.gan.plots import plot_snapshots
from mixjax.experiments.gan.trainer import Trainer
from mixjax.experiments.gan.trainer import make_trainer
from mixjax.experiments.gan.trainer import train_group


def results_table(summary: list[dict[str, Any]]) -> str:
  """One row per (dataset, z dim, method): covered modes, quality and KL, mean ± std."""
  headers = [
    "dataset",
    "z dim",
    "method",
    "modes covered",
    "modes, last 25% of training",
    "high-quality samples (%)",
    "KL(modes ‖ uniform)",
  ]
  rows = []
  for row in summary:
    method = "mixup GAN (α={:g})".format(row["alpha"]) if row["method"] == "mixup" else "GAN"
    rows.append(
      [
        row["dataset"],
        row["latent_dim"],
        method,
        f"{common.format_mean_std(row['modes'], 1)} / {row['num_modes']}",
        f"{common.format_mean_std(row['late_modes'], 1)} / {row['num_modes']}",
        common.format_mean_std(row["high_quality"], 1, scale=100),
        common.format_mean_std(row["mode_kl"], 2),
      ]
    )
  return common.markdown_table(headers, rows)


class _Group:
  """The runs of one (dataset, noise size), trained side by side: each method × seed."""

  def __init__(self, config: GanConfig, dataset: str, latent_dim: int, progress):
    self.config, self.progress = config, progress
    self.dataset, self.latent_dim = dataset, latent_dim
    self.data: Dataset = DATASETS[dataset]()
    self.methods = [m for m in config.methods for _ in config.seeds]
    self.seeds = [s for _ in config.methods for s in config.seeds]

  def announce(self) -> None:
    config = self.config
    labels = " and ".join(method_label(m, config) for m in config.methods)
    self.progress.start_run(
      f"{self.dataset} z={self.latent_dim}: {labels} x seeds {list(config.seeds)} "
      f"({len(self.seeds)} runs side by side), {config.steps} generator steps x "
      f"{config.disc_steps} discriminator steps",
      count=len(self.seeds),
    )

  def report(self, step: int, finals: list[dict[str, Any]]) -> None:
    """The progress line of an evaluation point: every run's covered modes."""
    num_modes = len(self.data.modes)
    modes = (
      f"{m} s{s} {f['modes']}/{num_modes}"
      for m, s, f in zip(self.methods, self.seeds, finals, strict=True)
    )
    self.progress.note(f"step {step}/{self.config.steps}: modes " + ", ".join(modes))

  def train(self, trainer: Trainer) -> list[dict[str, Any]]:
    """Trains the group; returns one result per run, with its keys."""
    config, num_modes = self.config, len(self.data.modes)
    self.announce()
    results = train_group(config, self.data, trainer, self.methods, self.seeds, self.report)
    runs = []
    for method, seed, result in zip(self.methods, self.seeds, results, strict=True):
      final = result["final"]
      self.progress.note(
        f"{method_label(method, config)} seed={seed}: modes {final['modes']}/{num_modes}, "
        f"high quality {100 * final['high_quality']:.1f}%, KL {final['mode_kl']:.2f}"
      )
      keys = {"dataset": self.dataset, "num_modes": num_modes, "latent_dim": self.latent_dim}
      keys.update(method=method, alpha=method_alpha(method, config), seed=seed)
      runs.append({**keys, **result})
    self.progress.note(f"{results[0]['seconds']:.1f} s for the {len(results)} runs")
    return runs


def train_all(config: GanConfig) -> list[dict[str, Any]]:
  """Every (noise size, dataset) group; one compilation per noise size serves all datasets."""
  total = len(config.datasets) * len(config.latent_dims) * len(config.methods) * len(config.seeds)
  progress = common.Progress("gan", total)
  runs = []
  for latent_dim in config.latent_dims:
    trainer = make_trainer(config, latent_dim)
    for dataset in config.datasets:
      runs += _Group(config, dataset, latent_dim, progress).train(trainer)
  return runs


def _markdown(config: GanConfig, table: str, seconds: float, quick: bool) -> str:
  return "\n".join(
    [
      "# mixup GAN on toy mixtures (Zhang et al. 2018, section 3.6)",
      "",
      f"{len(config.seeds)} seed(s) {list(config.seeds)}; {config.steps} generator steps, "
      f"{config.disc_steps} discriminator steps each, batch {config.batch_size}, MLPs "
      f"{config.num_layers}x{config.hidden} ReLU, Adam lr {config.learning_rate:g} betas "
      f"({config.b1:g}, {config.b2:g}), mixup λ ~ Beta({config.alpha:g}, {config.alpha:g}) "
      f"per {config.mix_mode}.",
      f"Metrics on {config.num_samples} samples of the final generator; a mode is covered "
      f"with >= {config.min_mode_samples} samples within 3 std; high quality = within 3 std "
      "of a mode. Cells: mean ± std over seeds.",
      "",
      table,
      "",
      f"Wall time {seconds:.0f} s{' (quick)' if quick else ''}. Plots: samples.png, "
      "snapshots.png, modes_vs_step.png.",
    ]
  )


def run(
  out_dir: str, *, quick: bool = False, seeds: Sequence[int] | None = None, **options
) -> dict[str, Any]:
  """Trains plain and mixup GANs on the toy mixtures; writes results and plots.

  Args:
    out_dir: output directory (created).
    quick: a tiny version (1 seed, z=2, 500 steps, narrow nets) for smoke tests.
    seeds: seeds to run (default (0, 1, 2), or (0,) when quick).
    **options: :class:`GanConfig` fields to override, e.g. `steps=20000, hidden=512`.

  Returns:
    The content of results.json: config, per-run metrics and curves, the summary rows,
    the markdown table and the wall time.
  """
  config = make_config(quick=quick, seeds=seeds, **options)
  os.makedirs(out_dir, exist_ok=True)
  with common.Timer() as timer:
    runs = train_all(config)
    plot_samples(os.path.join(out_dir, "samples.png"), config, runs)
    plot_snapshots(os.path.join(out_dir, "snapshots.png"), config, runs)
    plot_curves(os.path.join(out_dir, "modes_vs_step.png"), config, runs)
  summary = summarize(config, runs)
  table = results_table(summary)
  print(table, flush=True)
  results = {
    "experiment": "gan",
    "quick": quick,
    "config": config,
    "summary": summary,
    "runs": [{k: v for k, v in r.items() if k != "snapshots"} for r in runs],
    "table": table,
    "seconds": timer.seconds,
  }
  common.write_results(out_dir, results, _markdown(config, table, timer.seconds, quick))
  return results


def add_arguments(parser) -> None:
  """Command-line options: each one overrides the GanConfig field of the same name."""
  add = option_lib.add
  add(parser, "--steps", type=int, help="generator steps (default 4000)")
  add(
    parser,
    "--disc_steps",
    old=["--disc-steps"],
    type=int,
    help="discriminator steps per generator step (default 5)",
  )
  add(parser, "--hidden", type=int, help="units per hidden layer (default 128)")
  add(parser, "--num_layers", old=["--num-layers"], type=int, help="hidden layers (3)")
  add(parser, "--batch_size", old=["--batch-size"], type=int, help="batch (default 128)")
  add(parser, "--learning_rate", old=["--learning-rate"], type=float, help="Adam lr (default 3e-4)")
  add(parser, "--alpha", type=float, help="mixup GAN's Beta(α, α) (default 0.2)")
  add(
    parser,
    "--mix_mode",
    old=["--mix-mode"],
    choices=["batch", "elem"],
    help="one λ per pair or per batch (default elem)",
  )
  add(parser, "--datasets", type=option_lib.comma_list(str), help="e.g. ring,grid")
  add(
    parser,
    "--latent_dims",
    old=["--latent-dims"],
    type=option_lib.comma_list(int),
    help="e.g. 2,10",
  )
  add(parser, "--methods", type=option_lib.comma_list(str), help="e.g. plain,mixup")
  add(
    parser,
    "--num_samples",
    old=["--num-samples"],
    type=int,
    help="samples for the metrics (default 2500)",
  )
