"""Deprecated alias of `mixjax.data.sklearn_datasets` (kept for one release)."""

from mixjax import _moved

_moved.alias(__name__, "mixjax.data.sklearn_datasets")
