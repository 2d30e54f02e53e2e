"""Flags live in the entry points: importing the harness registers none; one shared flag set."""

from __future__ import annotations

import subprocess
import sys

from tests.training import helpers

MODULES = (
  "checkpoint",
  "cli",
  "compare",
  "config",
  "cross_validation",
  "distributed",
  "loop",
  "models",
  "parallel",
  "reporting",
  "step",
)
SHARED = ("config", "workdir", "distributed", "coordinator_address", "num_processes", "process_id")

CODE = f"""
import importlib, importlib.util, os, sys
from absl import app, flags
for name in {MODULES!r}:
  importlib.import_module("mixjax.training." + name)
for path in ("train.py", "tests/training/_worker.py"):  # Imported, not run.
  spec = importlib.util.spec_from_file_location("m_" + os.path.basename(path)[:-3], path)
  spec.loader.exec_module(importlib.util.module_from_spec(spec))
own = sorted(set(flags.FLAGS) & {set(SHARED) | {"mixes", "folds", "out"}!r})
print("REGISTERED", own)

from mixjax.training import cli
cli.define_flags(workdir_help="w")
flags.FLAGS(["prog", "--config={helpers.config_path("digits")}", "--workdir=/tmp/w"])
print("DEFINED", sorted(set(flags.FLAGS) & {set(SHARED)!r}))
print("DATASET", flags.FLAGS.config.dataset, flags.FLAGS.distributed)
cli.start(["prog"])  # --distributed is off: nothing to join.
try:
  cli.start(["prog", "stray"])
except app.UsageError as error:
  print("USAGE", error)
"""


def test_imports_register_no_flag_and_define_flags_registers_the_shared_set():
  result = subprocess.run(
    [sys.executable, "-c", CODE], cwd=helpers.ROOT, capture_output=True, text=True
  )
  assert result.returncode == 0, result.stderr
  out = result.stdout
  assert "REGISTERED []" in out
  assert f"DEFINED {sorted(SHARED)}" in out
  assert "DATASET digits False" in out
  assert "USAGE Unexpected arguments: ['stray']" in out


def test_each_entry_point_has_the_shared_flags_and_its_own():
  own = {
    ("train.py",): (),
    ("-m", "mixjax.training.compare"): ("--mixes:",),
    ("-m", "mixjax.training.cross_validation"): ("--folds:", "--mixes:"),
  }
  procs = {  # Started together: most of each is start-up, which overlaps.
    entry: subprocess.Popen(
      [sys.executable, *entry, "--help"],
      cwd=helpers.ROOT,
      stdout=subprocess.PIPE,
      stderr=subprocess.STDOUT,
      text=True,
    )
    for entry in own
  }
  for entry, extra in own.items():
    out = procs[entry].communicate(timeout=300)[0]
    for flag in ("--config:", "--workdir:", "--[no]distributed:", "--process_id:", *extra):
      assert flag in out, (entry, flag, out)
