"""ERM vs mixup on Google Speech Commands spectrograms (Zhang et al. 2017, section 3.3).

The paper applies mixup to speech: one-second utterances of the Google speech commands
dataset (Warden 2017) turned into spectrograms and mixed at the spectrogram level just
before the network. Its models and exact settings are not reproduced here.

Here: tfds `speech_commands` (version 0.02 of the recordings, 12 classes: ten words,
silence and unknown), log-mel spectrograms [98, 40, 1] computed once with tf.signal
(:mod:`mixjax.data.speech`), the recipe of configs/speech_commands.py (SmallCNN, Adam,
30 epochs) and :func:`mixjax.loop.train` for every run: ERM, and mixup at each α, for
each seed. Reported: the last-epoch test error, mean ± std over seeds. The paper's table
is not quoted: its classes, split and models differ from these.

Prepare the data once, on a machine with internet access (the builder needs
`pip install pydub`), then point `--data-dir` at it:

  tfds build speech_commands --data_dir=DIR

Run:
  python -m mixjax.experiments speech --out runs/speech --data-dir DIR
  python -m mixjax.experiments speech --out runs/speech --data-dir DIR --seeds 0-2 \
    --alphas 0.1,0.2 --epochs 30
  python -m mixjax.experiments speech --out /tmp/speech --data-dir DIR --quick

Every run trains in `out_dir/<method>_seed<k>` (`erm_seed0`, `mixup0.1_seed0`, ...); a
run whose summary.json exists is reused, an interrupted one resumes from its checkpoint.
With the full recipe each run takes about an hour per epoch on two shared CPU cores: use
an accelerator, or `--epochs`. `--quick` trains 1 epoch on the first 256 training and
128 test clips.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from typing import Any

import jax
import ml_collections

from configs import speech_commands as speech_config
from mixjax.experiments import common
from mixjax.training import loop
from mixjax.training import models

DEFAULT_ALPHAS = (0.1, 0.2)
# --quick: examples of each split, epochs and global batch size.
_QUICK_TRAIN, _QUICK_TEST, _QUICK_EPOCHS, _QUICK_BATCH = 256, 128, 1, 16


def method_name(alpha: float | None) -> str:
  """`erm` for None, else `mixup<α>` (e.g. `mixup0.1`): the runs' directory prefixes."""
  return "erm" if alpha is None else f"mixup{alpha:g}"


def method_label(alpha: float | None) -> str:
  return "ERM" if alpha is None else f"mixup (α={alpha:g})"


def _milestones(milestones: Sequence[int], base_epochs: int, epochs: int) -> tuple[int, ...]:
  """The config's milestones scaled from `base_epochs` to `epochs` (those before the end)."""
  scaled = {max(1, round(m * epochs / base_epochs)) for m in milestones}
  return tuple(sorted(m for m in scaled if m < epochs))


def make_config(
  alpha: float | None,
  *,
  seed: int,
  data_dir: str | None,
  epochs: int | None,
  quick: bool,
  model: str | None = None,
) -> ml_collections.ConfigDict:
  """configs/speech_commands.py for one run: ERM (`alpha=None`) or mixup at `alpha`.

  Args:
    alpha: mixup's α, or None for ERM.
    seed: the run's seed.
    data_dir: the tfds data directory, or None for tfds's default.
    epochs: training epochs; None keeps the config's (1 when `quick`). The learning
      rate milestones are scaled in proportion.
    quick: a tiny run (1 epoch, batch 16).
    model: a :data:`mixjax.models.MODELS` name; None keeps the config's small_cnn.

  Returns:
    The run's config.
  """
  config = speech_config.get_config()
  if epochs is None and quick:
    epochs = _QUICK_EPOCHS
  if epochs is not None:
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
      raise ValueError(f"`epochs` must be None or a positive int, got {epochs!r}.")
    config.lr_milestones = _milestones(config.lr_milestones, config.num_epochs, epochs)
    config.num_epochs = epochs
  if quick:
    config.batch_size = config.eval_batch_size = _QUICK_BATCH
  if alpha is None:
    config.mix = "none"
  else:
    config.mix = "mixup"
    config.mixup_alpha = float(alpha)
  if model is not None:
    if model not in models.MODELS:
      raise ValueError(f"`model` must be one of {sorted(models.MODELS)}, got {model!r}.")
    config.model = model
  config.seed = int(seed)
  config.data_dir = data_dir or ""
  config.checkpoint_every_epochs = min(config.checkpoint_every_epochs, config.num_epochs)
  return config


def _check_alphas(alphas: Sequence[float]) -> tuple[float, ...]:
  values = tuple(float(a) for a in alphas)
  if not values or any(not a > 0 for a in values) or len(set(values)) != len(values):
    raise ValueError(f"`alphas` must be distinct positive numbers, got {alphas!r}.")
  return values


def _train(config: ml_collections.ConfigDict, workdir: str, source) -> dict[str, Any]:
  """Trains one run unless `workdir` holds a finished one; returns its summary."""
  path = os.path.join(workdir, "summary.json")
  if os.path.exists(path):
    with open(path) as f:
      return json.load(f)
  return loop.train(config, workdir, source=source)[1]


def summarize(runs: list[dict[str, Any]], alphas: Sequence[float | None]) -> list[dict[str, Any]]:
  """One row per method: test errors (last epoch) as lists over seeds, mean and std."""
  rows = []
  for alpha in alphas:
    group = [r for r in runs if r["alpha"] == alpha]
    errors = [r["test_error"] for r in group]
    mean, std = common.mean_std(errors)
    rows.append(
      {
        "method": method_name(alpha),
        "label": method_label(alpha),
        "alpha": alpha,
        "seeds": [r["seed"] for r in group],
        "test_error": errors,
        "test_error_mean": mean,
        "test_error_std": std,
        "best_test_error": [r["best_test_error"] for r in group],
      }
    )
  return rows


def results_table(summary: list[dict[str, Any]]) -> str:
  headers = ["method", "test error (%), last epoch", "best epoch's test error (%)"]
  rows = [
    [
      row["label"],
      common.format_mean_std(row["test_error"], 2, scale=100),
      common.format_mean_std(row["best_test_error"], 2, scale=100),
    ]
    for row in summary
  ]
  return common.markdown_table(headers, rows)


def plot_errors(path: str, summary: list[dict[str, Any]], model: str) -> None:
  """Bar plot: last-epoch test error per method, mean ± std, one dot per seed."""
  plt = common.pyplot()
  fig, ax = plt.subplots(figsize=(1.3 * len(summary) + 1.5, 3.2))
  positions = range(len(summary))
  means = [100 * row["test_error_mean"] for row in summary]
  stds = [100 * row["test_error_std"] for row in summary]
  colors = ["tab:gray"] + ["tab:blue"] * (len(summary) - 1)
  ax.bar(positions, means, yerr=stds, capsize=4, color=colors, alpha=0.8)
  for i, row in enumerate(summary):
    ax.plot([i] * len(row["test_error"]), [100 * e for e in row["test_error"]], "k.", ms=4)
  ax.set_xticks(list(positions), [row["label"] for row in summary], fontsize=8)
  ax.set_ylabel("test error (%)")
  ax.set_title(f"Speech Commands, {model} on log-mel spectrograms", fontsize=9)
  ax.grid(axis="y", alpha=0.3)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def run(
  out_dir: str,
  *,
  quick: bool = False,
  seeds: Sequence[int] = (0,),
  alphas: Sequence[float] = DEFAULT_ALPHAS,
  data_dir: str | None = None,
  epochs: int | None = None,
  model: str | None = None,
) -> dict[str, Any]:
  """Trains ERM and mixup at each α on speech_commands; writes results and a plot.

  Args:
    out_dir: output directory (created); each run trains in `out_dir/<method>_seed<k>`.
    quick: a tiny version: the first 256 training and 128 test clips, 1 epoch (unless
      `epochs` is given), batch 16.
    seeds: seeds to run.
    alphas: mixup's α values; ERM always runs too.
    data_dir: the tfds data directory holding `speech_commands`; None uses tfds's
      default (or TFDS_DATA_DIR).
    epochs: training epochs; None keeps configs/speech_commands.py's 30.
    model: a :data:`mixjax.models.MODELS` name (e.g. `preact_resnet18`, for a model of
      larger capacity); None keeps the config's small_cnn.

  Returns:
    The content of results.json: setup, per-run results, the summary rows, the markdown
    table and the wall time.

  Raises:
    FileNotFoundError: speech_commands is not prepared in `data_dir` (the message says
      how to prepare it).
  """
  from mixjax.data import speech  # Imported here: TensorFlow is slow to import.

  seeds = common.parse_seeds(seeds)
  method_alphas = [None, *_check_alphas(alphas)]
  configure = functools.partial(
    make_config, data_dir=data_dir, epochs=epochs, quick=quick, model=model
  )
  recipe = configure(method_alphas[1], seed=seeds[0])  # Checks the options before loading.
  os.makedirs(out_dir, exist_ok=True)
  progress = common.Progress("speech", len(method_alphas) * len(seeds))
  runs = []
  with common.Timer() as timer:
    with common.Timer() as load_timer:
      data = speech.load_speech_data(
        data_dir=data_dir,
        max_train_examples=_QUICK_TRAIN if quick else None,
        max_test_examples=_QUICK_TEST if quick else None,
      )
    progress.note(
      f"speech_commands: {len(data.train_labels)} train / {len(data.test_labels)} test clips "
      f"as {data.spectrogram.input_shape} log-mels in {load_timer.seconds:.1f} s"
    )
    for seed in seeds:
      source = data.source(
        seed=seed, process_index=jax.process_index(), process_count=jax.process_count()
      )
      for alpha in method_alphas:
        config = configure(alpha, seed=seed)
        name = f"{method_name(alpha)}_seed{seed}"
        progress.start_run(f"{method_label(alpha)} seed={seed}, {config.num_epochs} epochs")
        summary = _train(config, os.path.join(out_dir, name), source)
        run_result = {
          "method": method_name(alpha),
          "alpha": alpha,
          "seed": seed,
          "workdir": name,
          "test_error": 1.0 - summary["last_test_accuracy"],
          "best_test_error": 1.0 - summary["best_test_accuracy"],
          "epochs": summary["epochs"],
          "wall_seconds": summary["wall_seconds"],
          "images_per_sec": summary["images_per_sec"],
        }
        runs.append(run_result)
        progress.note(
          f"test error {100 * run_result['test_error']:.2f}% "
          f"({run_result['images_per_sec']:,.0f} clips/s, {summary['wall_seconds']:.0f} s)"
        )
    summary_rows = summarize(runs, method_alphas)
    plot_errors(os.path.join(out_dir, "test_error.png"), summary_rows, recipe.model)
  table = results_table(summary_rows)
  spec = data.spectrogram
  if recipe.lr_milestones:
    schedule = f"x{recipe.lr_decay:g} after epochs {list(recipe.lr_milestones)}"
  else:
    schedule = "constant"
  markdown = "\n".join(
    [
      "# ERM vs mixup on Google Speech Commands (Zhang et al. 2017, section 3.3)",
      "",
      f"tfds speech_commands, {data.num_classes} classes, {len(data.train_labels)} train / "
      f"{len(data.test_labels)} test clips{' (quick subset)' if quick else ''}; log-mel "
      f"spectrograms {spec.input_shape} ({spec.frame_length}-sample frames every "
      f"{spec.frame_step} samples at {spec.sample_rate} Hz, {spec.num_mel_bins} mel bins). "
      f"{recipe.model}, {recipe.optimizer} lr {recipe.learning_rate:g} ({schedule}), "
      f"{recipe.num_epochs} epoch(s), batch "
      f"{recipe.batch_size}; mixup at the spectrogram level, one λ ~ Beta(α, α) per "
      f"{recipe.mix_mode}. {len(seeds)} seed(s) {seeds}; cells: mean ± std over seeds.",
      "",
      table,
      "",
      f"Wall time {timer.seconds:.0f} s{' (quick)' if quick else ''}. Plot: test_error.png.",
    ]
  )
  print(table, flush=True)
  results = {
    "experiment": "speech",
    "quick": quick,
    "dataset": "speech_commands",
    "num_classes": data.num_classes,
    "label_names": list(data.label_names),
    "num_train": len(data.train_labels),
    "num_test": len(data.test_labels),
    "spectrogram": spec,
    "config": json.loads(recipe.to_json_best_effort()),
    "seeds": seeds,
    "alphas": method_alphas[1:],
    "runs": runs,
    "summary": summary_rows,
    "table": table,
    "seconds": timer.seconds,
  }
  common.write_results(out_dir, results, markdown)
  return results


def _alphas(text: str) -> tuple[float, ...]:
  return tuple(float(part) for part in text.split(",") if part)


_alphas.__name__ = "comma-separated floats"


def add_arguments(parser) -> None:
  """Command-line options of `python -m mixjax.experiments speech`."""
  parser.add_argument(
    "--alphas", type=_alphas, help=f"mixup α values, e.g. 0.1,0.2 (default {DEFAULT_ALPHAS})"
  )
  parser.add_argument("--data-dir", dest="data_dir", help="tfds data_dir holding speech_commands")
  parser.add_argument("--epochs", type=int, help="training epochs (default 30; 1 with --quick)")
  parser.add_argument("--model", help="a mixjax.models name, e.g. preact_resnet18 (small_cnn)")
