"""The data modules' old paths keep working for one release, with a DeprecationWarning."""

from __future__ import annotations

import importlib
import sys

import pytest

from mixjax.data import arrays
from mixjax.data import base
from mixjax.data import stats

MOVED_MODULES = {
  "mixjax.data.sklearn_sources": ("mixjax.data.sklearn_datasets", "load_sklearn_source"),
  "mixjax.data.folder_source": ("mixjax.data.image_folder", "load_folder_source"),
  "mixjax.data.tfds_source": ("mixjax.data.tfds_images", "load_tfds_source"),
}


@pytest.mark.parametrize("old", sorted(MOVED_MODULES))
def test_old_module_warns_and_is_the_new_one(old):
  new, name = MOVED_MODULES[old]
  if "tfds" in new or "folder" in new:
    pytest.importorskip("tensorflow_datasets" if "tfds" in new else "tensorflow")
  sys.modules.pop(old, None)
  with pytest.warns(DeprecationWarning, match=f"`{old}` moved to `{new}`"):
    module = importlib.import_module(old)
  assert module is importlib.import_module(new)
  assert hasattr(module, name)


@pytest.mark.parametrize(
  "name, new",
  [
    ("ArraySource", arrays),
    ("epoch_permutation", arrays),
    ("channel_stats", stats),
    ("channel_stats_from_chunks", stats),
  ],
)
def test_names_that_left_base_warn_and_are_the_same(name, new):
  with pytest.warns(
    DeprecationWarning, match=f"`mixjax.data.base.{name}` moved to `{new.__name__}`"
  ):
    assert getattr(base, name) is getattr(new, name)


def test_base_still_refuses_unknown_names():
  with pytest.raises(AttributeError, match="no attribute 'nothing'"):
    base.nothing  # noqa: B018
