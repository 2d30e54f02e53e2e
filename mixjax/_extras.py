"""A clear error when a part of mixjax needs an extra that is not installed."""

from __future__ import annotations

import importlib.util

# Import name -> the distribution that provides it, for the message.
_DISTRIBUTIONS = {
  "absl": "absl-py",
  "sklearn": "scikit-learn",
  "orbax": "orbax-checkpoint",
}


def require(extra: str, part: str, *modules: str) -> None:
  """Raises ImportError naming `extra` when any of `modules` cannot be imported.

  Only looks the modules up (`importlib.util.find_spec`); nothing is imported.

  Args:
    extra: the pyproject extra that installs the modules, e.g. "train".
    part: the mixjax package that needs them, for the message.
    *modules: top-level import names, e.g. "flax".
  """
  missing = [m for m in modules if importlib.util.find_spec(m) is None]
  if missing:
    names = ", ".join(_DISTRIBUTIONS.get(m, m) for m in missing)
    raise ImportError(
      f"`{part}` needs the `{extra}` extra, which is not installed (missing: {names}). "
      f"Install it with: pip install 'mixjax[{extra}]'"
    )
