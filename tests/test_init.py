"""The top-level package: a light import and a public API listed name by name."""

from __future__ import annotations

import subprocess
import sys

import mixjax

HEAVY = ("flax", "optax", "orbax", "tensorflow", "sklearn", "absl", "ml_collections", "chex")


def test_import_mixjax_loads_no_training_dependency():
  code = (
    "import sys, mixjax, jax\n"
    "x = mixjax.one_hot(jax.numpy.arange(4) % 2, 2)\n"
    f"heavy = [m for m in sys.modules if m.split('.')[0] in {HEAVY!r}]\n"
    "print(','.join(sorted(heavy)))\n"
  )
  out = subprocess.run(
    [sys.executable, "-c", code], capture_output=True, text=True, check=True
  ).stdout.strip()
  assert out == "", f"import mixjax loaded {out}"


def test_every_public_name_is_exported_and_documented():
  assert len(set(mixjax.__all__)) == len(mixjax.__all__)
  for name in mixjax.__all__:
    obj = getattr(mixjax, name)
    assert obj.__doc__, name
    assert obj.__module__.startswith("mixjax._"), (name, obj.__module__)
