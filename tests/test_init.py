"""The top-level package: a light import and a public API listed name by name."""

from __future__ import annotations

import inspect
import subprocess
import sys

import jax
import jax.numpy as jnp
import pytest

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


# A valid value for each required argument a key-taking public function has, by name.
_ARGUMENTS = {
  "images": jnp.ones((4, 8, 8, 3)),
  "inputs": jnp.ones((4, 8, 8, 3)),
  "labels": jnp.eye(4),
  "batch_size": 4,
  "image_size": (8, 8),
  "shape": (4,),
  "lam": 0.5,
  "alpha": 1.0,
  "cutmix_minmax": (0.2, 0.8),
}
_TAKING_A_KEY = [
  name
  for name in mixjax.__all__
  if inspect.isfunction(getattr(mixjax, name))
  and next(iter(inspect.signature(getattr(mixjax, name)).parameters)) == "key"
]


def _required_arguments(fn):
  parameters = list(inspect.signature(fn).parameters.values())[1:]
  return [_ARGUMENTS[p.name] for p in parameters if p.default is inspect.Parameter.empty]


def test_the_key_taking_functions_are_found():
  assert {"mixup", "cutmix", "sample_partners", "random_erasing", "fmix_mask"} <= set(_TAKING_A_KEY)
  assert len(_TAKING_A_KEY) >= 20, _TAKING_A_KEY


@pytest.mark.parametrize("name", _TAKING_A_KEY)
def test_every_key_taking_function_checks_its_key(name):
  """Each one refuses a batch of keys or a seed, naming `key` (an op through its sampler)."""
  fn = getattr(mixjax, name)
  arguments = _required_arguments(fn)
  with pytest.raises(ValueError, match=r"^`key` must be a single PRNG key.*jax.vmap"):
    fn(jax.random.split(jax.random.key(0), 2), *arguments)
  with pytest.raises(TypeError, match=r"^`key` must be a PRNG key, e.g. `jax.random.key"):
    fn(0, *arguments)
