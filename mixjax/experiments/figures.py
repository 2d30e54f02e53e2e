"""See what mixing does: real images after mixup, CutMix and mixup-or-CutMix.

Two figures, each panel titled with the mixed label it carries (e.g. `0.63·3 + 0.37·8`):

* `digits.png`: eight sklearn digits (8x8, one per class 0-7), their partners, and rows of
  mixup and CutMix in batch mode (one λ / one box for the whole batch) and elem mode (one
  per example), and mixup_or_cutmix (elem mode, CutMix with probability 0.5);
* `photos.png`: tiles of the two scikit-learn sample photos (china.jpg and flower.jpg,
  labels "china" and "flower"), to show the same at a higher resolution.

Every op uses `pairing="flip"`, so the partner of column i is column B-1-i in every row,
and the two halves of each op are shown: the parameters are sampled with
:func:`mixjax.sample_mixup_params` / :func:`mixjax.sample_cutmix_params` /
:func:`mixjax.sample_mixup_or_cutmix_params` and applied with :func:`mixjax.apply_mix`;
CutMix boxes are outlined. results.json records λ, the box and the label of every panel.

Run it: `python -m mixjax.experiments figures --out runs/figures`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import mixjax
from mixjax.experiments import common

DIGIT_CLASSES = tuple(range(8))  # One example of each, so flip pairs are 0-7, 1-6, 2-5, 3-4.
PHOTO_NAMES = ("china", "flower")
TILE = 208  # Photo tiles are TILE x TILE pixels, cut from the middle rows of each photo.
TILE_LEFTS = {"china": (0, 110, 400), "flower": (150, 220, 290)}  # Left edges of the tiles.


def digit_batch() -> tuple[np.ndarray, np.ndarray, list[str]]:
  """The first sklearn digit of each class in DIGIT_CLASSES.

  Returns:
    `(images float32 [8, 8, 8, 1] in [0, 1], labels int32 [8], class names)`.
  """
  from sklearn.datasets import load_digits

  digits = load_digits()
  index = [int(np.flatnonzero(digits.target == c)[0]) for c in DIGIT_CLASSES]
  images = (digits.images[index] / 16.0).astype(np.float32)[..., None]
  return images, np.asarray(DIGIT_CLASSES, np.int32), [str(c) for c in range(10)]


def photo_batch() -> tuple[np.ndarray, np.ndarray, list[str]]:
  """Three square tiles from each scikit-learn sample photo (see TILE_LEFTS).

  Returns:
    `(images float32 [6, TILE, TILE, 3] in [0, 1], labels int32 [6], class names)`.
  """
  from sklearn.datasets import load_sample_images

  photos = load_sample_images()
  by_name = {
    os.path.splitext(os.path.basename(f))[0]: im
    for f, im in zip(photos.filenames, photos.images, strict=True)
  }
  tiles, labels = [], []
  for label, name in enumerate(PHOTO_NAMES):
    photo = by_name[name]
    top = (photo.shape[0] - TILE) // 2
    for left in TILE_LEFTS[name]:
      tiles.append(photo[top : top + TILE, left : left + TILE])
      labels.append(label)
  return np.stack(tiles).astype(np.float32) / 255.0, np.asarray(labels, np.int32), list(PHOTO_NAMES)


def _ops() -> list[tuple[str, dict[str, Any], Any]]:
  """(row name, settings, sampler of MixParams from (key, batch_size, image_size)) per op."""
  flip = {"pairing": "flip"}
  return [
    (
      "mixup, batch (α=1)",
      {"op": "mixup", "mode": "batch", "alpha": 1.0},
      lambda k, b, hw: mixjax.sample_mixup_params(k, b, alpha=1.0, mode="batch", **flip),
    ),
    (
      "mixup, elem (α=1)",
      {"op": "mixup", "mode": "elem", "alpha": 1.0},
      lambda k, b, hw: mixjax.sample_mixup_params(k, b, alpha=1.0, mode="elem", **flip),
    ),
    (
      "CutMix, batch (α=1)",
      {"op": "cutmix", "mode": "batch", "alpha": 1.0},
      lambda k, b, hw: mixjax.sample_cutmix_params(k, b, hw, alpha=1.0, mode="batch", **flip),
    ),
    (
      "CutMix, elem (α=1)",
      {"op": "cutmix", "mode": "elem", "alpha": 1.0},
      lambda k, b, hw: mixjax.sample_cutmix_params(k, b, hw, alpha=1.0, mode="elem", **flip),
    ),
    (
      "mixup or CutMix, elem",
      {
        "op": "mixup_or_cutmix",
        "mode": "elem",
        "mixup_alpha": 0.8,
        "cutmix_alpha": 1.0,
        "switch_prob": 0.5,
      },
      lambda k, b, hw: mixjax.sample_mixup_or_cutmix_params(
        k, b, hw, mixup_alpha=0.8, cutmix_alpha=1.0, switch_prob=0.5, mode="elem", **flip
      ),
    ),
  ]


def label_text(soft_label: np.ndarray, names: Sequence[str], own: int, partner: int) -> str:
  """`"0.63·3 + 0.37·8"`: the weights of the example's own class, then its partner's.

  Read off the mixed soft label; a class whose weight rounds to 0 is left out, and a pair
  of the same class shows once.
  """
  classes = [own] if own == partner else [own, partner]
  parts = [f"{soft_label[c]:.2f}·{names[c]}" for c in classes if soft_label[c] >= 0.005]
  return " + ".join(parts)


def _mix(key, images, targets, sampler):
  """Samples the parameters, then applies them (one compiled program per op)."""
  height, width = images.shape[1:3]
  params = sampler(key, images.shape[0], (height, width))
  mixed, soft = mixjax.apply_mix(images, targets, params)
  weight = mixjax.self_weight(params, (height, width) if params.box is not None else None)
  return mixed, soft, weight, params


def _mix_all(key, images, targets, samplers):
  """Every op's mixed batch from one key, in one compiled program."""
  keys = jax.random.split(key, len(samplers))
  return [_mix(k, images, targets, sampler) for k, sampler in zip(keys, samplers, strict=True)]


def mix_rows(
  key: jax.Array,
  images: np.ndarray,
  labels: np.ndarray,
  names: Sequence[str],
  ops: Sequence[tuple[str, dict[str, Any], Any]] | None = None,
) -> list[dict[str, Any]]:
  """Applies every op to the batch, each with its own key split from `key`.

  Args:
    key: a PRNG key.
    images: float32 `[B, H, W, C]`.
    labels: int `[B]` class indices.
    names: class names, indexed by class.
    ops: `(row name, settings, sampler)` triples; default `_ops()`.

  Returns:
    One dict per op: `name`, `settings`, `images` (float32 `[B, H, W, C]`), and per
    panel `labels` (text), `soft_labels` `[B, num_classes]`, `self_weight` `[B]`,
    `lam` `[B]`, `box` (int `[B, 4]` or None) and `partner` `[B]`.
  """
  ops = _ops() if ops is None else list(ops)
  batch = images.shape[0]
  targets = mixjax.one_hot(jnp.asarray(labels), len(names))
  mix = jax.jit(functools.partial(_mix_all, samplers=tuple(sampler for _, _, sampler in ops)))
  outputs = jax.device_get(mix(key, jnp.asarray(images), targets))
  rows = []
  for (name, settings, _), (mixed, soft, weight, params) in zip(ops, outputs, strict=True):
    partner = np.asarray(params.partner)
    rows.append(
      {
        "name": name,
        "settings": settings,
        "images": np.asarray(mixed),
        "labels": [
          label_text(s, names, int(a), int(b))
          for s, a, b in zip(soft, labels, labels[partner], strict=True)
        ],
        "soft_labels": np.asarray(soft),
        "self_weight": np.asarray(weight),
        "lam": np.broadcast_to(np.asarray(params.lam), (batch,)),
        "box": None if params.box is None else np.broadcast_to(params.box, (batch, 4)),
        "partner": partner,
      }
    )
  return rows


def _show(ax, image: np.ndarray, title: str, box: np.ndarray | None, fontsize: float) -> None:
  from matplotlib.patches import Rectangle

  if image.shape[-1] == 1:
    ax.imshow(image[..., 0], cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
  else:
    ax.imshow(np.clip(image, 0.0, 1.0), interpolation="nearest")
  if box is not None and (box[2] > box[0]) and (box[3] > box[1]):
    top, left, bottom, right = (int(v) for v in box)
    ax.add_patch(
      Rectangle(
        (left - 0.5, top - 0.5),
        right - left,
        bottom - top,
        fill=False,
        edgecolor="tab:red",
        linewidth=1.0,
      )
    )
  ax.set_title(title, fontsize=fontsize)
  ax.set_xticks([])
  ax.set_yticks([])


def plot_rows(
  path: str,
  images: np.ndarray,
  labels: np.ndarray,
  names: Sequence[str],
  rows: list[dict[str, Any]],
  *,
  panel: float,
  dpi: int,
  title: str,
) -> None:
  """One column per example; rows: inputs, partners, then one row per op."""
  plt = common.pyplot()
  batch = images.shape[0]
  partner = rows[0]["partner"]
  all_rows = [
    ("input", images, [names[c] for c in labels], [None] * batch),
    ("partner (flip)", images[partner], [names[c] for c in labels[partner]], [None] * batch),
  ]
  for row in rows:
    boxes = row["box"] if row["box"] is not None else [None] * batch
    all_rows.append((row["name"], row["images"], row["labels"], boxes))
  fig, axes = plt.subplots(
    len(all_rows),
    batch,
    squeeze=False,
    layout="constrained",
    figsize=(panel * batch + 0.6, (panel + 0.25) * len(all_rows) + 0.4),
  )
  fontsize = 7 if panel < 1.6 else 8
  for i, (name, row_images, row_labels, boxes) in enumerate(all_rows):
    for j in range(batch):
      _show(axes[i, j], row_images[j], row_labels[j], boxes[j], fontsize)
    axes[i, 0].set_ylabel(name, fontsize=fontsize + 1)
  fig.suptitle(title, fontsize=10)
  common.save_figure(fig, path, dpi=dpi, tight=False)


def _record(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
  keep = ("name", "settings", "labels", "soft_labels", "self_weight", "lam", "box", "partner")
  return [{k: row[k] for k in keep} for row in rows]


def _table(figure_rows: dict[str, list[dict[str, Any]]]) -> str:
  blocks = []
  for figure, rows in figure_rows.items():
    batch = len(rows[0]["labels"])
    headers = ["figure", "row"] + [f"column {j}" for j in range(batch)]
    table_rows = [[figure, row["name"]] + list(row["labels"]) for row in rows]
    blocks.append(common.markdown_table(headers, table_rows))
  return "\n\n".join(blocks)


class Figure(NamedTuple):
  """One of the drawn figures, `<name>.png`."""

  name: str  # The file's stem and its key in results.json.
  description: str  # Its progress line.
  batch: Callable[[], tuple[np.ndarray, np.ndarray, list[str]]]  # (images, labels, names).
  panel: float  # Inches per panel.
  dpi: tuple[int, int]  # Resolution of the full and the --quick figure.
  title: str  # The figure's title; `{seed}` is filled in.


FIGURES = (
  Figure(
    "digits",
    "digits.png: sklearn digits 0-7 under mixup, CutMix, mixup-or-CutMix",
    digit_batch,
    1.15,
    (120, 80),
    "sklearn digits, pairing='flip' (seed {seed}); titles: mixed labels",
  ),
  Figure(
    "photos",
    "photos.png: tiles of china.jpg and flower.jpg",
    photo_batch,
    1.9,
    (90, 60),
    f"scikit-learn sample photos, {TILE}x{TILE} tiles, pairing='flip' (seed {{seed}}); "
    "red: CutMix boxes",
  ),
)


def draw(figure: Figure, key: jax.Array, out_dir: str, *, seed: int, quick: bool) -> list[dict]:
  """Mixes the figure's batch with every op, draws `<out_dir>/<name>.png`, returns its record."""
  images, labels, names = figure.batch()
  rows = mix_rows(key, images, labels, names)
  path = os.path.join(out_dir, f"{figure.name}.png")
  dpi = figure.dpi[1] if quick else figure.dpi[0]
  title = figure.title.format(seed=seed)
  plot_rows(path, images, labels, names, rows, panel=figure.panel, dpi=dpi, title=title)
  return _record(rows)


def _markdown(table: str, files: Sequence[str], seconds: float) -> str:
  return "\n".join(
    [
      "# What mixing does to real images",
      "",
      "Each cell is the mixed label of one panel (weight·class, its own class first). Partner of "
      "column i: column B-1-i (`pairing='flip'`). Figures: " + ", ".join(files) + ".",
      "",
      table,
      "",
      f"Wall time {seconds:.1f} s.",
    ]
  )


def run(
  out_dir: str, *, quick: bool = False, seeds: Sequence[int] | None = None, **options: Any
) -> dict[str, Any]:
  """Draws digits.png and photos.png; writes results.json and results.md.

  Args:
    out_dir: output directory (created).
    quick: lower resolution output (the same panels).
    seeds: the first seed keys the mixing (default 0).
    **options: none are accepted.

  Returns:
    The content of results.json: per figure and row, the panel labels, λ, boxes and
    partners.
  """
  if options:
    raise TypeError(f"Unknown figures option(s) {sorted(options)}; it takes none.")
  seed = common.parse_seeds(seeds)[0] if seeds is not None else 0
  os.makedirs(out_dir, exist_ok=True)
  keys = jax.random.split(jax.random.key(seed), len(FIGURES))
  progress = common.Progress("figures", len(FIGURES))
  recorded = {}
  with common.Timer() as timer:
    for figure, key in zip(FIGURES, keys, strict=True):
      progress.start_run(figure.description)
      recorded[figure.name] = draw(figure, key, out_dir, seed=seed, quick=quick)
  files = [f"{figure.name}.png" for figure in FIGURES]
  table = _table(recorded)
  print(table, flush=True)
  results = {
    "experiment": "figures",
    "quick": quick,
    "seed": seed,
    "files": files,
    "figures": recorded,
    "table": table,
    "seconds": timer.seconds,
  }
  common.write_results(out_dir, results, _markdown(table, files, timer.seconds))
  return results
