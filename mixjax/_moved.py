"""Old module paths that keep working, with a DeprecationWarning, for one release.

The old modules are not files: `import mixjax` puts a finder on `sys.meta_path` that
answers for the paths in :data:`MOVED` only, so the package's folders show its layers and
nothing else. `import mixjax.trainer` warns and gives `mixjax.training.loop` itself;
`python -m mixjax.compare` warns and runs `python -m mixjax.training.compare`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import runpy
import sys
import types
import warnings

REMOVED_IN = "0.3"

# Old dotted path -> the module(s) its names moved to (the first wins on a clash).
MOVED: dict[str, tuple[str, ...]] = {
  "mixjax.augment": ("mixjax._crop_flip",),
  "mixjax.attacks": ("mixjax.experiments.adversarial.attacks",),
  "mixjax.checkpoint": ("mixjax.training.checkpoint",),
  "mixjax.compare": ("mixjax.training.compare",),
  "mixjax.config": ("mixjax.training.config",),
  "mixjax.cross_validation": ("mixjax.training.cross_validation",),
  "mixjax.distributed": ("mixjax.training.distributed",),
  "mixjax.models": ("mixjax.training.models",),
  "mixjax.reporting": ("mixjax.training.reporting",),
  "mixjax.train_step": ("mixjax.training.step", "mixjax.training.parallel"),
  "mixjax.trainer": ("mixjax.training.loop",),
  "mixjax.data.folder_source": ("mixjax.data.image_folder",),
  "mixjax.data.sklearn_sources": ("mixjax.data.sklearn_datasets",),
  "mixjax.data.tfds_source": ("mixjax.data.tfds_images",),
}


def _message(old: str, new: tuple[str, ...]) -> str:
  return (
    f"`{old}` moved to `{' and '.join(new)}`; import it from there "
    f"(the old path will be removed in mixjax {REMOVED_IN})."
  )


class _Loader(importlib.abc.Loader):
  """Loads an old path as the module it moved to (or their merge), warning the importer."""

  def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
    new = MOVED[spec.name]
    # stacklevel 2 skips this frame; the import machinery's own frames are skipped too.
    warnings.warn(_message(spec.name, new), DeprecationWarning, stacklevel=2)
    modules = [importlib.import_module(name) for name in new]
    if len(modules) == 1:
      return modules[0]
    merged = types.ModuleType(spec.name, modules[0].__doc__)
    for module in reversed(modules):
      merged.__dict__.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
    return merged

  def exec_module(self, module: types.ModuleType) -> None:
    del module  # create_module returned a module that is already executed.

  def get_code(self, fullname: str) -> types.CodeType:
    """What `python -m OLD` runs: the new module as `__main__`, after a warning."""
    source = f"import mixjax._moved\nmixjax._moved.run_moved_main({fullname!r})\n"
    return compile(source, f"<moved {fullname}>", "exec")


class _Finder(importlib.abc.MetaPathFinder):
  """Answers for the old paths in :data:`MOVED`, and for nothing else."""

  def find_spec(
    self,
    fullname: str,
    path: object = None,
    target: types.ModuleType | None = None,
  ) -> importlib.machinery.ModuleSpec | None:
    del path, target
    if fullname not in MOVED:
      return None
    return importlib.machinery.ModuleSpec(fullname, _Loader())


def install() -> None:
  """Puts the finder on `sys.meta_path` (once)."""
  if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
    sys.meta_path.append(_Finder())


def run_moved_main(old: str) -> None:
  """`python -m OLD` for a command that moved: warns on stderr, then runs the new module."""
  new = MOVED[old][0]
  print(
    f"warning: `python -m {old}` is deprecated; use `python -m {new}` "
    f"(the old path will be removed in mixjax {REMOVED_IN}).",
    file=sys.stderr,
  )
  runpy.run_module(new, run_name="__main__", alter_sys=True)
