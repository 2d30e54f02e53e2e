"""The --quick forms of the experiments that train through the trainer."""

from __future__ import annotations

import json

import pytest

from mixjax import experiments


def _outputs(out):
  results = json.loads((out / "results.json").read_text())
  assert (out / "results.md").read_text().count("|") > 10
  assert all(p.stat().st_size > 5000 for p in out.glob("*.png")) and list(out.glob("*.png"))
  return results


def test_corrupted_labels_quick(tmp_path):
  experiments.run("corrupted_labels", str(tmp_path), quick=True)
  results = _outputs(tmp_path)
  assert len(results["runs"]) == 4  # ERM, ERM + dropout, mixup, mixup + dropout
  for run in results["runs"]:
    assert 0 <= run["best_error"] <= run["last_error"] <= 1
    assert len(run["test_error_curve"]) == 3
  # A rerun reuses the finished runs instead of training again.
  again = experiments.run("corrupted_labels", str(tmp_path), quick=True)
  assert [r["last_error"] for r in again["runs"]] == [r["last_error"] for r in results["runs"]]


def test_adversarial_quick(tmp_path):
  experiments.run("adversarial", str(tmp_path), quick=True)
  results = _outputs(tmp_path)["results"]
  clean = json.loads(next(tmp_path.glob("runs/ERM_target_*/summary.json")).read_text())
  for method in {r["method"] for r in results}:
    for attack in ("FGSM", "I-FGSM"):
      rows = sorted(
        (r for r in results if r["method"] == method and r["attack"] == attack),
        key=lambda r: r["epsilon"],
      )
      assert rows[0]["epsilon"] == 0
      errors = [r["white_box_error"] for r in rows]
      assert errors == sorted(errors), (method, attack, errors)  # non-decreasing in ε
      assert errors[-1] > errors[0]
  erm_fgsm0 = next(
    r for r in results if r["method"] == "ERM" and r["attack"] == "FGSM" and r["epsilon"] == 0
  )
  # ε = 0 changes nothing: the error is the clean test error, well below chance (90%).
  assert erm_fgsm0["white_box_error"] == pytest.approx(1 - clean["last_test_accuracy"])
  assert erm_fgsm0["white_box_error"] < 0.5


def test_tabular_quick(tmp_path):
  experiments.run("tabular", str(tmp_path), quick=True)
  runs = _outputs(tmp_path)["runs"]
  assert {r["method"].split(" ")[0] for r in runs} == {"ERM", "mixup"}
  assert all(r["test_error"] < 2 / 3 for r in runs)  # iris: better than chance (3 classes)
