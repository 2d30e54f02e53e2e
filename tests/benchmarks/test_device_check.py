"""benchmarks/device_check.py: the smoke mode writes every section; the projection's arithmetic.

The smoke run is a fresh process on one CPU device (as the GPU run is one process on one
device), so it also checks that nothing on the path imports tensorflow. Its torch rows run
when torch is installed (the `bench` extra) and are reported as skipped otherwise.
"""

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks import bench_pipeline  # noqa: E402
from benchmarks import device_check  # noqa: E402

HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.fixture(scope="module")
def smoke_report(tmp_path_factory):
  out = tmp_path_factory.mktemp("device_check") / "report.md"
  env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
  env["PYTHONPATH"] = str(ROOT)
  result = subprocess.run(
    [sys.executable, str(ROOT / "benchmarks" / "device_check.py"), "--smoke", "--out", str(out)],
    env=env,
    capture_output=True,
    text=True,
    timeout=600,
  )
  assert result.returncode == 0, result.stderr[-3000:]
  return out.read_text()


def _section(report: str, title: str) -> str:
  """The text of the section whose `###` title starts with `title`, up to the next one."""
  match = re.search(rf"^### {re.escape(title)}.*?(?=^### |\Z)", report, re.M | re.S)
  assert match, f"no section {title!r} in:\n{report}"
  return match.group(0)


def test_the_smoke_report_has_every_section(smoke_report):
  assert "FAILED" not in smoke_report and "failed" not in smoke_report
  for size, batch, side, _, dtype in device_check.SMOKE.op_tables:
    ops = _section(smoke_report, f"(a) ops, {size} {batch}×{side}×{side}×3 {dtype}")
    assert "| jitted copy (reference) |" in ops and "| 1.00 |" in ops
    for row in device_check.SMOKE.op_rows:
      assert re.search(rf"^\| {row} \| [\d.]+ \| [\d.]+ \|$", ops, re.M), ops
    assert ("| timm mixup batch" in ops) == HAS_TORCH
    assert ("| torchvision MixUp batch" in ops) == HAS_TORCH
  step = _section(smoke_report, "(b) train step, batch 8, bfloat16")
  for mix in device_check.SMOKE.step_mixes:
    assert f"| mixjax small_cnn | {mix} |" in step
  assert ("| PyTorch 2." in step) == HAS_TORCH
  pipeline = _section(smoke_report, "(c) train.py end to end")
  for variant in bench_pipeline.VARIANTS:
    assert re.search(
      rf"^\| {re.escape(variant)} \| small_cnn \| 8 \| [\d,]+ \| [\d.]+% \|$", pipeline, re.M
    )
  assert "| train.py loop |" in _section(smoke_report, "(d) projected 200-epoch CIFAR-10")
  targets = _section(smoke_report, "Targets")
  assert "mixing adds ≤ 1% to the step" in targets
  assert re.search(r"every op but FMix ≤ 1.3× the copy.*FMix, allowed more: fmix batch", targets)
  assert "200-epoch CIFAR-10 recipe ≤ 10 min" in targets
  assert "tensorflow imported on this path: False" in targets


def test_the_projection_is_epochs_times_train_plus_eval(tmp_path):
  steps = 50_000 // 128  # 390
  rates = {"bare step": steps * 128 / 10.0, "train.py loop": steps * 128 / 13.0, "eval": 5_000.0}
  report = device_check.Report(str(tmp_path / "r.md"))
  minutes = device_check.projection_section(report, rates)
  # 200 epochs of (13 s of training + 10,000 / 5,000 s of eval) = 50 min.
  assert minutes == pytest.approx(200 * (13.0 + 2.0) / 60)
  text = (tmp_path / "r.md").read_text()
  assert "| bare step | 4,992 | 10.00 | 2.00 | 40.0 |" in text
  assert "| train.py loop | 3,840 | 13.00 | 2.00 | 50.0 |" in text
