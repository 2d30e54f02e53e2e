"""Deprecated alias of `mixjax.training.compare`; `python -m mixjax.compare` still runs."""

from mixjax import _moved

if __name__ == "__main__":
  _moved.run_moved_main("mixjax.compare", "mixjax.training.compare")
else:
  _moved.alias(__name__, "mixjax.training.compare")
