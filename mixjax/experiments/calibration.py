"""Does mixup calibrate? ECE and NLL before and after temperature scaling.

Two published claims, checked on MNIST-1D and digits, clean and with 50% label noise:

* Thulasidasan et al. 2019 ("On Mixup Training: Improved Calibration and Predictive
  Uncertainty for Deep Neural Networks", arXiv 1905.11001): mixup-trained networks are
  better calibrated (lower ECE) than ERM ones.
* Wang et al. 2023 ("On the Pitfall of Mixup for Uncertainty Calibration", CVPR 2023):
  once temperature scaling is applied, mixup is calibrated *worse* than ERM.

Every run holds out `held_out_fraction` (10%) of its training split (by seed; with label
noise, the held-out labels are as noisy as the rest, as a practitioner's would be),
trains on the rest, fits one temperature on the held-out logits by minimising the NLL
(:func:`mixjax.training.calibration.fit_temperature`; never on the test set), and reports
test accuracy, ECE (15 equal-width bins) and NLL before and after scaling. Methods: ERM,
mixup at the α grid, label smoothing 0.1. Each dataset's recipe is
:data:`mixjax.experiments.recipes.RECIPES`. Reliability diagrams (the first seed) go to
`reliability.png`; `results.md` says which paper each setting sides with.

Run (offline; 2 datasets × 2 noise levels × 7 methods × 3 seeds = 84 runs):
  python -m mixjax.experiments calibration --out runs/calibration
Quick form (what CI runs): `--quick`, MNIST-1D clean, ERM and mixup (α=0.4), 1 seed,
2 epochs.
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
from mixjax.training import calibration
from mixjax.training import loop

DATASETS = ("mnist1d", "digits")
NOISE_LEVELS = (0.0, 0.5)
ALPHAS = (0.1, 0.2, 0.4, 1.0, 2.0)
SMOOTHING = 0.1
HELD_OUT_FRACTION = 0.1
# The quick version's options (`common.quick_defaults`: those passed are kept) and epochs.
QUICK = dict(seeds=(0,), datasets=("mnist1d",), noise_levels=(0.0,), alphas=(0.4,))
QUICK_EPOCHS = 2
_METRICS = ("accuracy", "ece", "nll", "temperature", "ece_scaled", "nll_scaled")


def methods(alphas: Sequence[float], *, smoothing: float = SMOOTHING) -> list[runs.Method]:
  """ERM, mixup at each α and (when `smoothing` > 0) label smoothing."""
  grid = [runs.erm(), *(runs.mixup(a) for a in alphas)]
  return grid + ([recipes.label_smoothing(smoothing)] if smoothing > 0 else [])


def held_out_split(source, fraction: float, seed: int):
  """`(train source, held-out source)`: the held-out one's test split is part of the training.

  Both have the same training examples (so the same normalisation); the held-out source's
  `eval_batches` yield the held-out training examples, with their (possibly noisy) labels.
  """
  num_train = source.info.num_train
  order = np.random.default_rng([seed, 7]).permutation(num_train)
  num_held = max(1, int(round(fraction * num_train)))
  train, held = np.sort(order[num_held:]), np.sort(order[:num_held])
  return source.subset(train), source.subset(train, test_indices=held)


def grid(datasets, noise_levels, grid_methods, seeds, *, epochs=None, fraction=HELD_OUT_FRACTION):
  """One run per dataset × noise × method × seed; returns `(specs, held-out sources)`."""
  specs, held_sources = [], []
  for dataset in datasets:
    recipe = recipes.get(dataset) if epochs is None else recipes.get(dataset).quick(epochs)
    for noise in noise_levels:
      for method in grid_methods:
        for seed in seeds:
          config = recipe.config(seed=int(seed), label_noise=float(noise), **method.overrides)
          train, held = held_out_split(loop.load_source(config), fraction, int(seed))
          name = f"{dataset}_noise{noise:g}_{method.label.replace(' ', '_')}_seed{seed}"
          fields = {"dataset": dataset, "noise": noise, "method": method.label, "seed": seed}
          specs.append(
            runs.Run(
              os.path.join("runs", name), f"{dataset} noise={noise:g} {method.label} seed={seed}",
              config, fields, source=train,
            )
          )  # fmt: skip
          held_sources.append(held)
  return specs, held_sources


def measure(state, train_source, held_source, batch_size: int) -> dict[str, Any]:
  """Accuracy, ECE and NLL on the test split before and after temperature scaling."""
  held_probs, held_labels = loop.predict(state, held_source, global_batch_size=batch_size)
  probs, labels = loop.predict(state, train_source, global_batch_size=batch_size)
  # log-probabilities are the logits up to a per-example constant: the same softmax at any T.
  held_logits, logits = np.log(np.maximum(held_probs, 1e-30)), np.log(np.maximum(probs, 1e-30))
  temperature = calibration.fit_temperature(held_logits, held_labels)
  scaled = np.asarray(_softmax(logits / temperature))
  return {
    "accuracy": float(np.mean(probs.argmax(1) == labels)),
    "ece": calibration.expected_calibration_error(probs, labels),
    "nll": calibration.nll(logits, labels),
    "temperature": temperature,
    "ece_scaled": calibration.expected_calibration_error(scaled, labels),
    "nll_scaled": calibration.nll(logits, labels, temperature),
    "reliability": _reliability(probs, labels),
  }


def _softmax(logits: np.ndarray) -> np.ndarray:
  shifted = np.exp(logits - logits.max(1, keepdims=True))
  return shifted / shifted.sum(1, keepdims=True)


def _reliability(probs, labels) -> dict[str, list[float]]:
  """Per-bin counts, mean confidences and accuracies, for the reliability diagram."""
  sums = calibration.bin_sums(probs, labels, np.ones(len(labels)))
  count = np.asarray(sums["ece_count"])
  safe = np.maximum(count, 1)
  return {
    "count": count.tolist(),
    "confidence": (np.asarray(sums["ece_confidence"]) / safe).tolist(),
    "accuracy": (np.asarray(sums["ece_correct"]) / safe).tolist(),
  }


def _select(results, **fields) -> list[dict[str, Any]]:
  return [r for r in results if all(r[k] == v for k, v in fields.items())]


def results_table(results, dataset, noise, labels) -> str:
  """Mean ± std over seeds of each metric, one row per method."""
  rows = []
  for label in labels:
    selected = _select(results, dataset=dataset, noise=noise, method=label)
    row = [label, common.format_mean_std([r["accuracy"] for r in selected], 2, scale=100)]
    row += [common.format_mean_std([r[m] for r in selected], 3) for m in _METRICS[1:]]
    rows.append(row)
  header = ["method", "test acc %", "ECE", "NLL", "T", "ECE after T", "NLL after T"]
  return common.markdown_table(header, rows)


def verdict(results, dataset, noise) -> str:
  """Which paper the setting sides with: mixup's mean ECE vs ERM's, before and after T."""

  setting = _select(results, dataset=dataset, noise=noise)

  def mean_ece(methods_, key):
    return float(np.mean([r[key] for r in setting if r["method"] in methods_]))

  mixups = {r["method"] for r in setting if r["method"].startswith("mixup")}
  before = (mean_ece(mixups, "ece"), mean_ece({"ERM"}, "ece"))
  after = (mean_ece(mixups, "ece_scaled"), mean_ece({"ERM"}, "ece_scaled"))
  first = "sides with" if before[0] < before[1] else "does not side with"
  second = "sides with" if after[0] > after[1] else "does not side with"
  return (
    f"- {dataset}, {100 * noise:g}% noise: before scaling mixup's mean ECE {before[0]:.3f} vs "
    f"ERM {before[1]:.3f}: {first} Thulasidasan et al.; after scaling {after[0]:.3f} vs "
    f"{after[1]:.3f}: {second} Wang et al."
  )


def _plot(path, results, settings, labels) -> None:
  """Reliability diagrams of the first seed run: a row per (dataset, noise), a column per
  method."""
  plt = common.pyplot()
  fig, axes = plt.subplots(
    len(settings), len(labels), figsize=(2.4 * len(labels), 2.4 * len(settings)), squeeze=False
  )
  centers = (np.arange(calibration.NUM_BINS) + 0.5) / calibration.NUM_BINS
  for row, (dataset, noise) in zip(axes, settings, strict=True):
    for ax, label in zip(row, labels, strict=True):
      first = _select(results, dataset=dataset, noise=noise, method=label)[0]
      bins = first["reliability"]
      accuracy = np.where(np.asarray(bins["count"]) > 0, bins["accuracy"], 0.0)
      ax.bar(centers, accuracy, width=1 / calibration.NUM_BINS, edgecolor="k", alpha=0.7)
      ax.plot([0, 1], [0, 1], "r--", linewidth=1)
      ax.set_title(f"{dataset} {100 * noise:g}%\n{label}", fontsize=7)
      ax.set(xlim=(0, 1), ylim=(0, 1))
      ax.tick_params(labelsize=6)
  common.save_figure(fig, path)


@common.quick_defaults(QUICK)
def run(
  out_dir: str,
  *,
  quick: bool = False,
  seeds: Sequence[int] = (0, 1, 2),
  datasets: Sequence[str] = DATASETS,
  noise_levels: Sequence[float] = NOISE_LEVELS,
  alphas: Sequence[float] = ALPHAS,
) -> dict[str, Any]:
  """Runs the grid, measures calibration before and after scaling, writes tables and plots.

  Args:
    out_dir: output directory (created); each run trains in `out_dir/runs/<name>`.
    quick: a tiny version (MNIST-1D clean, ERM and mixup α = 0.4, 1 seed, 2 epochs). Options passed
      explicitly are kept (`QUICK` fills the others).
    seeds: seeds to run.
    datasets: datasets of :data:`mixjax.experiments.recipes.RECIPES`.
    noise_levels: fractions of corrupted training labels.
    alphas: mixup's α values.

  Returns:
    `{"runs": per-run results, "tables": markdown per setting, "verdicts": lines}`.
  """
  epochs, grid_methods = None, methods(alphas)
  if quick:
    epochs, grid_methods = QUICK_EPOCHS, methods(alphas, smoothing=0.0)
  specs, held = grid(datasets, noise_levels, grid_methods, seeds, epochs=epochs)
  progress = common.Progress("calibration", len(specs))
  note = lambda t: f"test acc {100 * t.summary['last_test_accuracy']:.2f}%"  # noqa: E731
  trained = runs.train_all(out_dir, specs, progress, note=note, need_state=True)
  results = [
    {**spec.fields, **measure(t.state, spec.source, h, spec.config.batch_size)}
    for spec, t, h in zip(specs, trained, held, strict=True)
  ]
  return _report(out_dir, results, datasets, noise_levels, grid_methods, seeds)


def _report(out_dir, results, datasets, noise_levels, grid_methods, seeds) -> dict[str, Any]:
  labels = [m.label for m in grid_methods]
  settings = [(d, n) for d in datasets for n in noise_levels]
  tables = {f"{d} noise {n:g}": results_table(results, d, n, labels) for d, n in settings}
  lines = [verdict(results, d, n) for d, n in settings]
  _plot(os.path.join(out_dir, "reliability.png"), results, settings, labels)
  setup = "; ".join(f"{d}: {recipes.get(d).describe()}" for d in datasets)
  setup += f"; {100 * HELD_OUT_FRACTION:g}% of the training split held out for T; seeds {seeds}"
  body = "\n\n".join(f"## {name}\n\n{table}" for name, table in tables.items())
  markdown = (
    f"# Calibration: ECE (15 bins) and NLL, before / after temperature scaling\n\n{setup}\n\n"
    f"{body}\n\n" + "\n".join(lines) + "\n\n![reliability](reliability.png)\n"
  )
  common.write_results(out_dir, {"setup": setup, "runs": results, "verdicts": lines}, markdown)
  print(body + "\n" + "\n".join(lines), flush=True)
  return {"runs": results, "tables": tables, "verdicts": lines}


def add_arguments(parser: argparse.ArgumentParser) -> None:
  """Command-line options of `python -m mixjax.experiments calibration`."""
  floats = options.comma_list(float)
  options.add(parser, "--datasets", type=options.comma_list(str), help="e.g. mnist1d,digits")
  options.add(parser, "--noise_levels", type=floats, help="e.g. 0,0.5")
  options.add(parser, "--alphas", type=floats, help="mixup α values, e.g. 0.2,1")
