"""ERM vs mixup on Google Speech Commands spectrograms (Zhang et al. 2017, section 3.3).

The paper applies mixup to speech: one-second utterances of the Google speech commands
dataset (Warden 2017) turned into spectrograms and mixed at the spectrogram level just
before the network. Its models and exact settings are not reproduced here.

Here: tfds `speech_commands` (version 0.02 of the recordings, 12 classes: ten words,
silence and unknown), log-mel spectrograms [98, 40, 1] computed once with tf.signal
(:mod:`mixjax.data.speech`), the recipe of :mod:`mixjax.experiments.speech.recipe` (SmallCNN,
Adam, 30 epochs; configs/speech_commands.py returns it) and
:func:`mixjax.training.loop.train` for every run: ERM, and mixup at each α, for
each seed. Reported: the last-epoch test error, mean ± std over seeds. The paper's table
is not quoted: its classes, split and models differ from these.

Prepare the data once, on a machine with internet access (the builder needs
`pip install pydub`), then point `--data_dir` at it:

  tfds build speech_commands --data_dir=DIR

Run:
  python -m mixjax.experiments speech --out runs/speech --data_dir DIR
  python -m mixjax.experiments speech --out runs/speech --data_dir DIR --seeds 0-2 \
    --alphas 0.1,0.2 --epochs 30
  python -m mixjax.experiments speech --out /tmp/speech --data_dir DIR --quick

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

from mixjax.experiments import common
from mixjax.experiments import options
from mixjax.experiments import runs
from mixjax.experiments.speech import recipe as recipe_lib
from mixjax.experiments.speech.recipe import method_label
from mixjax.experiments.speech.recipe import method_name

DEFAULT_ALPHAS = (0.1, 0.2)


def _check_alphas(alphas: Sequence[float]) -> tuple[float, ...]:
  values = tuple(float(a) for a in alphas)
  if not values or any(not a > 0 for a in values) or len(set(values)) != len(values):
    raise ValueError(f"`alphas` must be distinct positive numbers, got {alphas!r}.")
  return values


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
  """Rows: methods; cells: last-epoch and best-epoch test error %, mean ± std over seeds."""
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
  common.save_figure(fig, path)


def _load(data_dir: str | None, quick: bool, progress: common.Progress):
  """Both splits as log-mel spectrograms (the quick subsets when `quick`)."""
  from mixjax.data import speech  # Imported here: TensorFlow is slow to import.

  with common.Timer() as timer:
    data = speech.load_speech_data(
      data_dir=data_dir,
      max_train_examples=recipe_lib.QUICK_TRAIN if quick else None,
      max_test_examples=recipe_lib.QUICK_TEST if quick else None,
    )
  progress.note(
    f"speech_commands: {len(data.train_labels)} train / {len(data.test_labels)} test clips "
    f"as {data.spectrogram.input_shape} log-mels in {timer.seconds:.1f} s"
  )
  return data


def _note(trained: runs.Trained) -> str:
  summary = trained.summary
  return (
    f"test error {100 * trained.last_error:.2f}% "
    f"({summary['images_per_sec']:,.0f} clips/s, {summary['wall_seconds']:.0f} s)"
  )


def _train_seed(out_dir, data, seed, method_alphas, configure, progress) -> list[dict[str, Any]]:
  """Trains (or reuses) every method of one seed in `out_dir/<method>_seed<k>`."""
  source = data.source(
    seed=seed, process_index=jax.process_index(), process_count=jax.process_count()
  )
  specs = []
  for alpha in method_alphas:
    config = configure(alpha, seed=seed)
    name = f"{method_name(alpha)}_seed{seed}"
    fields = {"method": method_name(alpha), "alpha": alpha, "seed": seed, "workdir": name}
    description = f"{method_label(alpha)} seed={seed}, {config.num_epochs} epochs"
    specs.append(runs.Run(name, description, config, fields=fields, source=source))
  trained = runs.train_all(out_dir, specs, progress, note=_note)
  return [_result(spec, t) for spec, t in zip(specs, trained, strict=True)]


def _result(spec: runs.Run, trained: runs.Trained) -> dict[str, Any]:
  summary = trained.summary
  return {
    **spec.fields,
    "test_error": trained.last_error,
    "best_test_error": trained.best_error,
    "epochs": summary["epochs"],
    "wall_seconds": summary["wall_seconds"],
    "images_per_sec": summary["images_per_sec"],
  }


def _markdown(data, recipe, table: str, *, seeds, quick: bool, seconds: float) -> str:
  spec = data.spectrogram
  if recipe.lr_milestones:
    schedule = f"x{recipe.lr_decay:g} after epochs {list(recipe.lr_milestones)}"
  else:
    schedule = "constant"
  return "\n".join(
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
      f"Wall time {seconds:.0f} s{' (quick)' if quick else ''}. Plot: test_error.png.",
    ]
  )


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
    epochs: training epochs; None keeps the recipe's 30.
    model: a :data:`mixjax.training.models.MODELS` name (e.g. `preact_resnet18`, for a
      model of larger capacity); None keeps the recipe's small_cnn.

  Returns:
    The content of results.json: setup, per-run results, the summary rows, the markdown
    table and the wall time.

  Raises:
    FileNotFoundError: speech_commands is not prepared in `data_dir` (the message says
      how to prepare it).
  """
  seeds = common.parse_seeds(seeds)
  method_alphas = [None, *_check_alphas(alphas)]
  configure = functools.partial(
    recipe_lib.make_config, data_dir=data_dir, epochs=epochs, quick=quick, model=model
  )
  recipe = configure(method_alphas[1], seed=seeds[0])  # Checks the options before loading.
  os.makedirs(out_dir, exist_ok=True)
  progress = common.Progress("speech", len(method_alphas) * len(seeds))
  with common.Timer() as timer:
    data = _load(data_dir, quick, progress)
    train = functools.partial(_train_seed, out_dir, data, progress=progress)
    results = [r for seed in seeds for r in train(seed, method_alphas, configure)]
    summary_rows = summarize(results, method_alphas)
    plot_errors(os.path.join(out_dir, "test_error.png"), summary_rows, recipe.model)
  table = results_table(summary_rows)
  print(table, flush=True)
  payload = {
    "experiment": "speech",
    "quick": quick,
    "dataset": "speech_commands",
    "num_classes": data.num_classes,
    "label_names": list(data.label_names),
    "num_train": len(data.train_labels),
    "num_test": len(data.test_labels),
    "spectrogram": data.spectrogram,
    "config": json.loads(recipe.to_json_best_effort()),
    "seeds": seeds,
    "alphas": method_alphas[1:],
    "runs": results,
    "summary": summary_rows,
    "table": table,
    "seconds": timer.seconds,
  }
  markdown = _markdown(data, recipe, table, seeds=seeds, quick=quick, seconds=timer.seconds)
  common.write_results(out_dir, payload, markdown)
  return payload


def add_arguments(parser) -> None:
  """Command-line options of `python -m mixjax.experiments speech`."""
  options.add(
    parser,
    "--alphas",
    type=options.comma_list(float),
    help=f"mixup α values, e.g. 0.1,0.2 (default {DEFAULT_ALPHAS})",
  )
  options.add(
    parser, "--data_dir", old=["--data-dir"], help="tfds data_dir holding speech_commands"
  )
  options.add(parser, "--epochs", type=int, help="training epochs (default 30; 1 with --quick)")
  options.add(parser, "--model", help="a mixjax.training.models name, e.g. preact_resnet18")
