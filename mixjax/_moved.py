"""Old module paths that keep working, with a DeprecationWarning, for one release."""

from __future__ import annotations

import importlib
import runpy
import sys
import types
import warnings

REMOVED_IN = "0.3"


def alias(old: str, *new: str) -> None:
  """Makes module `old` an alias of the module(s) `new`, warning the importer.

  With one target, `old` becomes that module; with several, a module holding the public
  names of all of them (the first wins on a clash).

  Args:
    old: the old dotted module path (the shim's `__name__`).
    *new: the dotted paths the code moved to.
  """
  warnings.warn(
    f"`{old}` moved to `{' and '.join(new)}`; import it from there "
    f"(the old path will be removed in mixjax {REMOVED_IN}).",
    DeprecationWarning,
    stacklevel=3,
  )
  modules = [importlib.import_module(name) for name in new]
  if len(modules) == 1:
    sys.modules[old] = modules[0]
    return
  merged = types.ModuleType(old, modules[0].__doc__)
  for module in reversed(modules):
    merged.__dict__.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
  sys.modules[old] = merged


def run_moved_main(old: str, new: str) -> None:
  """`python -m OLD` for a command that moved: warns on stderr, then runs `python -m NEW`."""
  print(
    f"warning: `python -m {old}` is deprecated; use `python -m {new}` "
    f"(the old path will be removed in mixjax {REMOVED_IN}).",
    file=sys.stderr,
  )
  runpy.run_module(new, run_name="__main__", alter_sys=True)
