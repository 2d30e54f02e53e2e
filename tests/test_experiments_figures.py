"""Tests for the figures experiment, run end to end through the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mixjax.experiments import figures

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
  out = tmp_path_factory.mktemp("figures")
  proc = subprocess.run(
    [sys.executable, "-m", "mixjax.experiments", "figures", "--out", str(out), "--quick"],
    capture_output=True,
    text=True,
    cwd=_ROOT,
    timeout=300,
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  return out, proc.stdout


def test_cli_prints_progress_and_table(cli_run):
  _, stdout = cli_run
  assert "[1/2" in stdout and "[2/2" in stdout
  assert "| figure | row" in stdout and "figures: done in" in stdout


@pytest.mark.parametrize("name", ["digits.png", "photos.png"])
def test_pngs_are_non_trivial(cli_run, name):
  from matplotlib.image import imread

  out, _ = cli_run
  path = out / name
  assert path.stat().st_size > 20_000
  image = imread(str(path))
  assert image.shape[0] > 300 and image.shape[1] > 300
  rgb = image[..., :3]
  assert rgb.std() > 0.05  # Not blank.
  assert np.mean(np.abs(np.diff(rgb, axis=1)) > 0.1) > 0.01  # Has edges, i.e. drawn content.


def test_results_record_what_was_drawn(cli_run):
  out, _ = cli_run
  results = json.loads((out / "results.json").read_text())
  assert results["files"] == ["digits.png", "photos.png"]
  for figure, batch in (("digits", 8), ("photos", 6)):
    rows = results["figures"][figure]
    assert [r["settings"]["op"] for r in rows] == [
      "mixup",
      "mixup",
      "cutmix",
      "cutmix",
      "mixup_or_cutmix",
    ]
    for row in rows:
      soft = np.asarray(row["soft_labels"])
      assert soft.shape[0] == batch
      np.testing.assert_allclose(soft.sum(axis=1), 1.0, atol=1e-5)
      assert row["partner"] == list(range(batch - 1, -1, -1))  # flip pairing
      assert len(row["labels"]) == batch and all("·" in t for t in row["labels"])
  assert "| digits | mixup, batch (α=1)" in (out / "results.md").read_text()


def test_label_text():
  names = [str(c) for c in range(10)]
  soft = np.zeros(10)
  soft[3], soft[8] = 0.63, 0.37
  assert figures.label_text(soft, names, 3, 8) == "0.63·3 + 0.37·8"
  assert figures.label_text(soft, names, 8, 3) == "0.37·8 + 0.63·3"
  soft[:] = 0
  soft[5] = 1.0
  assert figures.label_text(soft, names, 5, 5) == "1.00·5"
  assert figures.label_text(soft, names, 2, 5) == "1.00·5"  # Fully replaced by its partner.


def test_mixed_images_follow_the_recorded_parameters():
  # Re-derive every mixed image from its recorded λ, box and partner, in NumPy.
  import jax

  images, labels, names = figures.digit_batch()
  ops = figures._ops()
  ops = [ops[1], ops[3]]  # mixup and CutMix in elem mode (each op compiles a Beta sampler).
  rows = figures.mix_rows(jax.random.key(0), images, labels, names, ops)
  for row in rows:
    partner = images[row["partner"]]
    lam = row["lam"][:, None, None, None]
    expected = lam * images + (1 - lam) * partner
    if row["box"] is not None:
      height, width = images.shape[1:3]
      ii, jj = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
      for b, (top, left, bottom, right) in enumerate(row["box"]):
        inside = (ii >= top) & (ii < bottom) & (jj >= left) & (jj < right)
        expected[b][inside] = partner[b][inside]
    np.testing.assert_allclose(row["images"], expected, atol=1e-6, err_msg=row["name"])
  mixup, cutmix = rows
  assert len(set(mixup["lam"].tolist())) == 8 and mixup["box"] is None  # one λ per example
  assert cutmix["box"].shape == (8, 4) and np.all(cutmix["lam"] == 1.0)
  # The label weight of a CutMix panel is its kept-pixel fraction.
  area = (cutmix["box"][:, 2] - cutmix["box"][:, 0]) * (cutmix["box"][:, 3] - cutmix["box"][:, 1])
  np.testing.assert_allclose(cutmix["self_weight"], 1 - area / 64, atol=1e-6)
