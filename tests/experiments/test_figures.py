"""Tests for the figures experiment, run end to end through its command line."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from mixjax.experiments import __main__ as cli
from mixjax.experiments import figures


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
  """The command line's `figures --quick`, with every op's mixed batch kept for the tests."""
  out = tmp_path_factory.mktemp("figures")
  drawn = {}
  mix_rows = figures.mix_rows

  def keep(key, images, labels, names, ops=None):
    rows = mix_rows(key, images, labels, names, ops)
    drawn["digits" if images.shape[-1] == 1 else "photos"] = (images, rows)
    return rows

  with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()) as stdout:
    patch.setattr(figures, "mix_rows", keep)
    cli.main(["figures", "--out", str(out), "--quick"])
  return out, stdout.getvalue(), drawn


def test_cli_prints_progress_and_table(cli_run):
  _, stdout, _ = cli_run
  assert "[1/2" in stdout and "[2/2" in stdout
  assert "| figure | row" in stdout and "figures: done in" in stdout


@pytest.mark.parametrize("name", ["digits.png", "photos.png"])
def test_pngs_are_non_trivial(cli_run, name):
  from matplotlib.image import imread

  out, _, _ = cli_run
  path = out / name
  assert path.stat().st_size > 20_000
  image = imread(str(path))
  assert image.shape[0] > 300 and image.shape[1] > 300
  rgb = image[..., :3]
  assert rgb.std() > 0.05  # Not blank.
  assert np.mean(np.abs(np.diff(rgb, axis=1)) > 0.1) > 0.01  # Has edges, i.e. drawn content.


def test_results_record_what_was_drawn(cli_run):
  out, _, _ = cli_run
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


def _parse_label(text: str) -> list[tuple[float, str]]:
  """`"0.63·3 + 0.37·8"` -> [(0.63, "3"), (0.37, "8")]."""
  return [(float(w), name) for w, name in (part.split("·") for part in text.split(" + "))]


@pytest.mark.parametrize("figure", ["digits", "photos"])
def test_labels_are_the_ops_weights(cli_run, figure):
  # Each panel's label gives the op's own weight of the example: λ for mixup, the kept
  # area for CutMix (λ times the kept area for mixup-or-CutMix, one of the two per panel).
  out, _, _ = cli_run
  results = json.loads((out / "results.json").read_text())
  images, labels, names = {"digits": figures.digit_batch, "photos": figures.photo_batch}[figure]()
  height, width = images.shape[1:3]
  for row in results["figures"][figure]:
    lam = np.asarray(row["lam"], np.float64)
    if row["box"] is None:
      kept = np.ones_like(lam)
    else:
      box = np.asarray(row["box"])
      kept = 1 - (box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1]) / (height * width)
    weight = lam * kept
    np.testing.assert_allclose(row["self_weight"], weight, atol=1e-6, err_msg=row["name"])
    for j, text in enumerate(row["labels"]):
      own, partner = names[labels[j]], names[labels[row["partner"][j]]]
      assert own != partner  # Flip pairs cross classes in both batches.
      expected = [(w, c) for w, c in ((weight[j], own), (1 - weight[j], partner)) if w >= 0.005]
      parsed = _parse_label(text)
      assert [c for _, c in parsed] == [c for _, c in expected], (row["name"], j, text)
      for (got, _), (want, _) in zip(parsed, expected, strict=True):
        assert abs(got - want) <= 0.005 + 1e-6, (row["name"], j, text, want)
      soft = np.asarray(row["soft_labels"][j])
      np.testing.assert_allclose(soft[labels[j]], weight[j], atol=1e-6)


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


@pytest.mark.parametrize("figure", ["digits", "photos"])
def test_mixed_images_follow_the_recorded_parameters(cli_run, figure):
  # Re-derive every drawn mixed image from its recorded λ, box and partner, in NumPy.
  _, _, drawn = cli_run
  images, rows = drawn[figure]
  batch, height, width = images.shape[:3]
  for row in rows:
    partner = images[row["partner"]]
    lam = row["lam"][:, None, None, None]
    expected = lam * images + (1 - lam) * partner
    if row["box"] is not None:
      ii, jj = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
      for b, (top, left, bottom, right) in enumerate(row["box"]):
        inside = (ii >= top) & (ii < bottom) & (jj >= left) & (jj < right)
        expected[b][inside] = partner[b][inside]
    np.testing.assert_allclose(row["images"], expected, atol=1e-6, err_msg=row["name"])
  mixup, cutmix = rows[1], rows[3]  # mixup and CutMix in elem mode.
  assert (mixup["name"], cutmix["name"]) == ("mixup, elem (α=1)", "CutMix, elem (α=1)")
  assert len(set(mixup["lam"].tolist())) == batch and mixup["box"] is None  # one λ per example
  assert cutmix["box"].shape == (batch, 4) and np.all(cutmix["lam"] == 1.0)
  # The label weight of a CutMix panel is its kept-pixel fraction.
  area = (cutmix["box"][:, 2] - cutmix["box"][:, 0]) * (cutmix["box"][:, 3] - cutmix["box"][:, 1])
  np.testing.assert_allclose(cutmix["self_weight"], 1 - area / (height * width), atol=1e-6)
