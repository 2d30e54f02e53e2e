"""The tabular experiment, in its --quick form, against its runs' own files."""

from __future__ import annotations

from mixjax import experiments
from mixjax.experiments import common
from tests.experiments import outputs


def test_quick_run_reports_its_runs(tmp_path):
  experiments.run("tabular", str(tmp_path), quick=True)
  runs = outputs.check_outputs(tmp_path)["runs"]
  assert {r["method"].split(" ")[0] for r in runs} == {"ERM", "mixup"}
  assert all(r["test_error"] < 2 / 3 for r in runs)  # iris: better than chance (3 classes)
  cells = ["iris"]
  for run in runs:
    summary, records = outputs.read_run(
      tmp_path / "runs" / f"iris_{run['method'].replace(' ', '_')}_seed0"
    )
    assert len(records) == 5
    assert run["test_error"] == 1 - records[-1]["test_accuracy"]
    assert run["test_error"] == 1 - summary["last_test_accuracy"]
    cells.append(common.format_mean_std([run["test_error"]], 2, scale=100))
  assert cells in outputs.table_rows((tmp_path / "results.md").read_text())


def test_quick_keeps_the_options_passed(tmp_path):
  results = experiments.run("tabular", str(tmp_path), quick=True, seeds=(1,), epochs=2)
  assert {(r["seed"], r["dataset"]) for r in results["runs"]} == {(1, "iris")}
  run_dirs = sorted((tmp_path / "runs").iterdir())
  assert [p.name.endswith("_seed1") for p in run_dirs] == [True, True]
  assert [len(outputs.read_run(p)[1]) for p in run_dirs] == [2, 2]  # epochs=2, not quick's 5
