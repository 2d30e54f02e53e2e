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
  "progress",
  "reporting",
  "step",
  "stopping",
  "workdir",
)
SHARED = ("config", "workdir", "distributed", "coordinator_address", "num_processes", "process_id")

CODE = f"""
import importlib, importlib.util, os, sys
from absl import flags
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
except SystemExit as exit:
  print("USAGE", exit.code)
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
  assert "USAGE 2" in out
  assert result.stderr.splitlines()[-1] == (
    "error: unexpected arguments ['stray']: every option is a flag (--name=value, "
    "--config.KEY=VALUE); see --help."
  )


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
  outs = dict(zip(procs, helpers.communicate(list(procs.values()), timeout=300), strict=True))
  for entry, extra in own.items():
    out = outs[entry]
    for flag in ("--config:", "--workdir:", "--[no]distributed:", "--process_id:", *extra):
      assert flag in out, (entry, flag, out)


ERRORS_CODE = f"""
import contextlib, io, signal, sys
from mixjax.training import cli, config, stopping, workdir
cli.define_flags(workdir_help="w")
base = ["prog", "--config={helpers.config_path("digits")}", "--workdir=/tmp/w"]

def attempt(label, call, argv=()):
  err = io.StringIO()
  sys.argv = base + list(argv)
  with contextlib.redirect_stderr(err):
    try:
      call()
      status = 0
    except SystemExit as exit:
      status = exit.code
    except Exception as error:
      status = "raised " + type(error).__name__
  print(label, status, repr(err.getvalue()))

for label, extra in (("UNKNOWN", "--config.mixup_alfa=1"), ("BADINT", "--config.batch_size=x")):
  attempt(label, lambda: cli.parse_flags(sys.argv), [extra])
attempt("NOCOORD", lambda: (cli.parse_flags(sys.argv), cli.start(["prog"])), ["--distributed"])
attempt("NOCONFIG", lambda: cli.parse_flags(sys.argv), ["--config=/nonexistent/c.py"])

def failing(error):
  def main(argv):
    raise error
  return cli.guarded(main)

attempt("CONFIG", lambda: failing(config.ConfigError("config.model must be x, got 'y'."))([]))
attempt("VERBOSE", lambda: failing(config.ConfigError("bad"))([]), ["--verbose"])
attempt("WORKDIR", lambda: failing(workdir.WorkdirError("--workdir /w is not usable"))([]))
attempt("DIVERGED", lambda: failing(stopping.Diverged("the train loss is nan"))([]))
attempt("TERM", lambda: failing(stopping.Interrupted(signal.SIGTERM, 2, 30, 9))([]))
attempt("CTRLC", lambda: failing(KeyboardInterrupt())([]))
import jax
from mixjax.training import checkpoint
gone = "Gloo AllGather failed: [pair.cc:538] Read error [127.0.0.1]:1: Connection reset by peer"
saving = checkpoint.CheckpointError("could not write the checkpoint of step 21 to /w: " + gone)
attempt("ALONE", lambda: failing(saving)([]))  # Not a multi-process run: as written.
attempt("OTHER", lambda: failing(jax.errors.JaxRuntimeError("INTERNAL: out of memory"))([]))
jax.distributed.is_initialized = lambda: True  # As in a multi-process run (shut down: a no-op).
attempt("LOSTPEER", lambda: failing(saving)([]))
attempt("OTHERMULTI", lambda: failing(jax.errors.JaxRuntimeError("INTERNAL: out of memory"))([]))
"""


def test_errors_are_one_line_with_an_exit_status():
  result = subprocess.run(
    [sys.executable, "-c", ERRORS_CODE], cwd=helpers.ROOT, capture_output=True, text=True
  )
  assert result.returncode == 0, result.stderr
  lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
  assert lines["UNKNOWN"] == (
    "2 'error: config.mixup_alfa is not a config key (see mixjax.training.config."
    "default_config); did you mean config.mixup_alpha, config.cutmix_alpha?\\n'"
  )
  assert lines["BADINT"].startswith('2 "error: config.batch_size=x: invalid literal for int()')
  assert lines["NOCOORD"].startswith(
    "2 'error: --distributed: coordinator_address should be defined. Pass "
    "--coordinator_address=HOST:PORT"
  )
  assert lines["NOCONFIG"] == (
    '2 "error: --config could not be loaded: [Errno 2] No such file or directory: '
    "'/nonexistent/c.py'\\n\""
  )
  assert lines["CONFIG"] == "2 \"error: config.model must be x, got 'y'.\\n\""
  assert lines["VERBOSE"] == "raised ConfigError ''"  # The traceback, with --verbose.
  assert lines["WORKDIR"] == "1 'error: --workdir /w is not usable\\n'"
  assert lines["DIVERGED"] == "1 'error: the train loss is nan\\n'"
  assert lines["TERM"].startswith("143 'SIGTERM: interrupted at epoch 2 step 9 (global step 30)")
  assert lines["CTRLC"].startswith("130 'interrupted (Ctrl-C twice): the last checkpoint is kept")
  saving = "could not write the checkpoint of step 21 to /w: Gloo AllGather failed: [pair.cc:538]"
  saving += " Read error [127.0.0.1]:1: Connection reset by peer"
  assert lines["ALONE"] == f"1 'error: {saving}\\n'"
  assert lines["LOSTPEER"] == (
    f"1 'error: process 0 lost another process of the run ({saving}); the newest checkpoint is"
    " kept: rerun every process to resume.\\n'"
  )
  # Any other runtime error keeps its traceback (absl prints it), one process or several.
  assert lines["OTHER"] == lines["OTHERMULTI"] == "raised JaxRuntimeError ''"


def test_a_bad_config_from_the_command_line_is_one_line_and_touches_nothing(tmp_path):
  command = [sys.executable, "train.py", f"--config={helpers.config_path('digits')}"]
  command += [f"--workdir={tmp_path / 'w'}", "--config.mixup_alpha=1e39"]
  result = subprocess.run(command, cwd=helpers.ROOT, capture_output=True, text=True)
  assert result.returncode == 2
  errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
  assert errors == [
    "error: config.mixup_alpha must be a number >= 0, finite in float32 (at most 3.403e+38), "
    "got 1e+39."
  ]
  assert "Traceback" not in result.stderr
  assert not (tmp_path / "w").exists()
