"""Sphinx directives that generate the API reference and the config reference from the code.

* ``mixjax-api MODULE``: one autodoc entry per name of ``MODULE.__all__``, so a new public
  name is documented without editing a page.
* ``mixjax-config-table``: the table of every key of
  :func:`mixjax.training.config.default_config` (key, default, meaning, allowed values).
  The meaning is the comment beside the key's assignment in ``config.py``; the allowed
  values come from the validation in the same file (``CHOICES``, the int and float
  families, the ``_fail(key, ..., "expected")`` range checks).

The functions below the directives are plain Python: tests/test_docs.py calls them too.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import io
import tokenize
from typing import Any

# Families of config.py's validation -> how the table words them.
FAMILIES = {
  "POSITIVE_INTS": "int >= 1",
  "NON_NEGATIVE_INTS": "int >= 0",
  "NON_NEGATIVE_FLOATS": "finite number >= 0",
  "UNIT_FLOATS": "number in [0, 1]",
}


def public_names(module_name: str) -> list[str]:
  """The sorted ``__all__`` of a module."""
  return sorted(importlib.import_module(module_name).__all__)


def api_lines(module_name: str) -> list[str]:
  """reST autodoc directives, one per public name of ``module_name``."""
  module = importlib.import_module(module_name)
  lines: list[str] = []
  for name in public_names(module_name):
    obj = getattr(module, name)
    target = f"{module_name}.{name}"
    if inspect.isclass(obj):
      lines += [f".. autoclass:: {target}", "   :members:", ""]
    elif callable(obj):
      lines += [f".. autofunction:: {target}", ""]
    else:
      lines += [f".. autodata:: {target}", ""]
  return lines


def _assignment_comments(source: str) -> dict[str, str]:
  """``config.KEY = ...  # comment`` -> {KEY: comment}, over the assignment's lines."""
  comments: dict[int, str] = {}
  for token in tokenize.generate_tokens(io.StringIO(source).readline):
    if token.type == tokenize.COMMENT:
      comments[token.start[0]] = token.string.lstrip("#").strip()
  found: dict[str, str] = {}
  for node in ast.walk(ast.parse(source)):
    if not isinstance(node, ast.Assign) or len(node.targets) != 1:
      continue
    target = node.targets[0]
    if isinstance(target, ast.Attribute) and ast.unparse(target.value) == "config":
      end = node.end_lineno or node.lineno
      text = " ".join(comments[n] for n in range(node.lineno, end + 1) if n in comments)
      found[target.attr] = text
  return found


def _for_families(tree: ast.AST, config_module: Any) -> dict[str, str]:
  """Keys of the validation families (``for key in FAMILY: ... _fail``) -> allowed values."""
  allowed: dict[str, str] = {}
  for key, choices in getattr(config_module, "CHOICES", {}).items():
    allowed[key] = " | ".join(f'"{c}"' for c in choices)
  for node in ast.walk(tree):
    if isinstance(node, ast.For) and isinstance(node.iter, ast.Name):
      wording = FAMILIES.get(node.iter.id)
      for key in getattr(config_module, node.iter.id, ()) if wording else ():
        allowed.setdefault(key, wording)
  return allowed


def _fail_calls(tree: ast.AST) -> dict[str, str]:
  """``_fail("key", value, "expected")`` with literal key and wording -> {key: expected}."""
  allowed: dict[str, str] = {}
  for node in ast.walk(tree):
    if not (isinstance(node, ast.Call) and ast.unparse(node.func) == "_fail"):
      continue
    if len(node.args) == 3 and all(isinstance(a, ast.Constant) for a in node.args[::2]):
      allowed.setdefault(node.args[0].value, node.args[2].value)
  return allowed


def _kind(value: Any) -> str:
  if isinstance(value, bool):
    return "bool"
  if isinstance(value, tuple | list):
    return "tuple of int" if all(isinstance(v, int) for v in value) else "tuple"
  return type(value).__name__


def config_rows() -> list[tuple[str, str, str, str]]:
  """(key, default, meaning, allowed values) for every key of the default config, in order."""
  config_module = importlib.import_module("mixjax.training.config")
  source = inspect.getsource(config_module)
  tree = ast.parse(source)
  meanings = _assignment_comments(inspect.getsource(config_module.default_config))
  allowed = _for_families(tree, config_module)
  for key, expected in _fail_calls(tree).items():
    allowed[key] = f"{allowed[key]}; {expected}" if key in allowed else expected
  rows = []
  for key, value in config_module.default_config().items():
    rows.append((key, repr(value), meanings.get(key, ""), allowed.get(key, _kind(value))))
  return rows


def _escape(text: str) -> str:
  return text.replace("\\", "\\\\").replace("*", "\\*").replace("|", "\\|").replace("`", "\\`")


def config_table_lines() -> list[str]:
  """The config reference as a reST list-table."""
  lines = [
    ".. list-table::",
    "   :header-rows: 1",
    "   :widths: 18 14 48 20",
    "",
    "   * - key",
    "     - default",
    "     - meaning",
    "     - allowed values",
  ]
  for key, default, meaning, allowed in config_rows():
    lines += [
      f"   * - ``{key}``",
      f"     - ``{default}``",
      f"     - {_escape(meaning)}",
      f"     - {_escape(allowed)}",
    ]
  return lines


API_MODULES = ("mixjax", "mixjax.training")


def missing_from_inventory(inventory_path: str) -> list[str]:
  """Public names of :data:`API_MODULES` that the built site's ``objects.inv`` lacks."""
  from sphinx.util.inventory import InventoryFile

  with open(inventory_path, "rb") as f:
    inventory = InventoryFile.load(f, "", lambda base, uri: uri)
  data = getattr(inventory, "data", inventory)  # Sphinx 9: an Inventory; before: a dict.
  documented = {name for kind in data.values() for name in kind}
  wanted = [f"{m}.{name}" for m in API_MODULES for name in public_names(m)]
  return [name for name in wanted if name not in documented]


def setup(app: Any) -> dict[str, Any]:
  from docutils import nodes
  from docutils.statemachine import StringList
  from sphinx.util.docutils import SphinxDirective

  class _Generated(SphinxDirective):
    def generated(self) -> list[str]:
      raise NotImplementedError

    def run(self) -> list[Any]:
      container = nodes.container()
      lines = self.generated()
      self.state.nested_parse(StringList(lines, source="<generated>"), 0, container)
      return container.children

  class ApiDirective(_Generated):
    required_arguments = 1

    def generated(self) -> list[str]:
      return api_lines(self.arguments[0])

  class ConfigTableDirective(_Generated):
    def generated(self) -> list[str]:
      return config_table_lines()

  app.add_directive("mixjax-api", ApiDirective)
  app.add_directive("mixjax-config-table", ConfigTableDirective)
  return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
  import sys

  # `python docs/_ext/mixjax_docs.py docs/_build/html/objects.inv`: after `make docs`.
  missing = missing_from_inventory(sys.argv[1])
  if missing:
    sys.exit(f"not in the API reference: {missing}")
  print(f"API reference: all {sum(len(public_names(m)) for m in API_MODULES)} public names.")
