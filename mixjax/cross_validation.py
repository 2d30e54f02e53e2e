"""Deprecated alias of `mixjax.training.cross_validation` (its `python -m` still runs)."""

from mixjax import _moved

if __name__ == "__main__":
  _moved.run_moved_main("mixjax.cross_validation", "mixjax.training.cross_validation")
else:
  _moved.alias(__name__, "mixjax.training.cross_validation")
