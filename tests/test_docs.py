"""The docs: every docstring example runs, the generated references cover the code, and the
version is defined once.

The Sphinx build itself is `make docs` (CI), which also checks the built inventory.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.metadata
import importlib.util
import pathlib
import tomllib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import mixjax

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location(
  "mixjax_docs", ROOT / "docs" / "_ext" / "mixjax_docs.py"
)
mixjax_docs = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(mixjax_docs)


def _modules_with_examples() -> list[str]:
  """Every module of the package whose source holds a `>>>` example."""
  names = []
  for path in sorted((ROOT / "mixjax").rglob("*.py")):
    if path.name != "__main__.py" and ">>>" in path.read_text():
      parts = path.relative_to(ROOT).with_suffix("").parts
      names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
  return names


def doctest_globals() -> dict:
  """The names docstring examples may assume (as the conventions page says)."""
  return {
    "jax": jax,
    "jnp": jnp,
    "np": np,
    "mixjax": mixjax,
    "key": jax.random.key(0),
    "dropout_key": jax.random.key(1),
    "images": jax.random.uniform(jax.random.key(2), (8, 32, 32, 3)),
    "labels": jnp.arange(8) % 10,
  }


def test_the_op_modules_have_examples():
  modules = _modules_with_examples()
  names = ("mixup", "cutmix", "one_hot", "fmix", "resizemix", "sample_lambda")
  for defining in {getattr(mixjax, name).__module__ for name in names}:
    assert defining in modules


@pytest.mark.parametrize("module_name", _modules_with_examples())
def test_docstring_examples_run(module_name):
  module = importlib.import_module(module_name)
  finder = doctest.DocTestFinder(exclude_empty=True)
  runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
  globs = {**vars(module), **doctest_globals()}
  tests = [t for t in finder.find(module, globs=globs) if t.examples]
  assert tests, f"{module_name} has no doctest although its source holds `>>>`"
  for test in tests:
    runner.run(test)
  result = runner.summarize(verbose=False)
  assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"


@pytest.mark.parametrize("module_name", mixjax_docs.API_MODULES)
def test_api_reference_documents_every_public_name(module_name):
  module = importlib.import_module(module_name)
  lines = mixjax_docs.api_lines(module_name)
  targets = [line.split("::")[1].strip() for line in lines if line.startswith(".. auto")]
  assert targets == [f"{module_name}.{name}" for name in sorted(module.__all__)]
  for name in module.__all__:
    assert getattr(module, name).__doc__, f"{module_name}.{name} has no docstring"
  assert f".. mixjax-api:: {module_name}\n" in (ROOT / "docs" / "api.rst").read_text()


def test_config_reference_describes_every_key():
  from mixjax.training import config

  rows = mixjax_docs.config_rows()
  assert [row[0] for row in rows] == list(config.default_config().keys())
  for key, default, meaning, allowed in rows:
    assert meaning, f"config.{key} has no comment in default_config()"
    assert allowed, key
    assert default == repr(config.default_config()[key])
  for key, choices in config.CHOICES.items():
    allowed = dict((row[0], row[3]) for row in rows)[key]
    assert all(f'"{choice}"' in allowed for choice in choices), key
  assert ".. mixjax-config-table::" in (ROOT / "docs" / "config.rst").read_text()


# A value outside each wording of the table's "allowed values" column.
OUTSIDE = {
  "int >= 1": 0,
  "int >= 0": -1,
  "finite number >= 0": -1.0,
  "number in [0, 1]": 1.5,
}


def test_config_reference_allowed_values_are_what_validation_enforces():
  from mixjax.training import config

  checked = 0
  for key, _, _, allowed in mixjax_docs.config_rows():
    wording = allowed.split(";")[0]
    if wording in OUTSIDE:
      bad = OUTSIDE[wording]
    elif key in config.CHOICES:
      bad = "not-a-choice"
    else:
      continue
    cfg = config.default_config()
    cfg[key] = bad
    with pytest.raises(ValueError, match=f"config.{key} "):
      config.validate(cfg)
    checked += 1
  assert checked >= len(config.CHOICES) + len(config.POSITIVE_INTS)


def test_version_is_defined_once():
  pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
  assert "version" not in pyproject["project"]
  assert "version" in pyproject["project"]["dynamic"]
  assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "mixjax.__version__"}
  # The installed metadata (pip install -e .) agrees with the package.
  assert importlib.metadata.version("mixjax") == mixjax.__version__


def test_type_hints_are_shipped():
  pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
  assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["mixjax"]
  assert (ROOT / "mixjax" / "py.typed").is_file()
