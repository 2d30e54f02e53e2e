"""Every script of examples/ runs as `python examples/NAME.py` and reaches a real outcome.

Each example prints a last line `RESULT key=value ...`; the checks below read it. The settings
are smaller than the scripts' defaults, to keep the suite fast.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _learns(chance: float):
  def check(result: dict[str, float]) -> None:
    assert result["last_loss"] < result["first_loss"], result
    assert result["test_accuracy"] > max(0.8, 2 * chance), result

  return check


def _same_on_both_drivers(result: dict[str, float]) -> None:
  assert result["devices"] == 8, result
  assert result["max_diff"] <= 1e-6, result  # pmap == shard_map
  assert result["distinct_lams"] == 8, result  # one key, hence one λ, per device
  assert result["same_lams"] == 1.0, result


# name -> (small settings, check of its RESULT line)
CASES = {
  "flax_nnx": (["--steps", "150"], _learns(chance=0.1)),
  "optax_loop": (["--steps", "200"], _learns(chance=1 / 3)),
  "data_loader": (["--epochs", "2", "--train_size", "1024"], _learns(chance=0.25)),
  "multi_device": (["--steps", "2"], _same_on_both_drivers),
}

# Examples with their own test module, which runs the script: not run a second time here.
TESTED_ELSEWHERE = {
  "segmentation": "tests/examples/test_segmentation.py",
}


def parse_result(stdout: str) -> dict[str, float]:
  lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
  assert len(lines) == 1, stdout
  values = dict(item.split("=", 1) for item in lines[0].split()[1:])
  booleans = {"True": 1.0, "False": 0.0}
  return {k: booleans[v] if v in booleans else float(v) for k, v in values.items()}


def test_parse_result():
  result = parse_result("hello\nRESULT a=1.5 ok=True no=False\n")
  assert result == {"a": 1.5, "ok": 1.0, "no": 0.0}


def test_every_example_is_run_and_listed_in_the_docs():
  scripts = sorted(p.stem for p in (ROOT / "examples").glob("*.py"))
  assert not set(CASES) & set(TESTED_ELSEWHERE)
  assert scripts == sorted([*CASES, *TESTED_ELSEWHERE])
  for test in TESTED_ELSEWHERE.values():
    assert (ROOT / test).is_file(), test
  page = (ROOT / "docs" / "examples.md").read_text()
  for name in scripts:
    assert f"`examples/{name}.py`" in page, name


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs(name):
  args, check = CASES[name]
  env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
  proc = subprocess.run(
    [sys.executable, str(ROOT / "examples" / f"{name}.py"), *args],
    capture_output=True,
    text=True,
    env=env,
    cwd=ROOT,
    timeout=600,
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  check(parse_result(proc.stdout))
