"""The training tests share one persistent compilation cache per test process.

Every run builds its steps afresh (a new `Parallel`, so new pmap / jit objects), and many
tests compile programs another test already compiled (the same model, batch and mix).
With a cache on disk, those compile once per test process; cached executables are the
same programs, so results are unchanged (bit-exact).
"""

from __future__ import annotations

import jax
import pytest
from jax.experimental.compilation_cache import compilation_cache


@pytest.fixture(scope="package", autouse=True)
def _shared_compilation_cache(tmp_path_factory):
  saved = {
    name: getattr(jax.config, name)
    for name in (
      "jax_compilation_cache_dir",
      "jax_persistent_cache_min_compile_time_secs",
      "jax_persistent_cache_min_entry_size_bytes",
    )
  }
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
  compilation_cache.reset_cache()
  compilation_cache.set_cache_dir(str(tmp_path_factory.getbasetemp() / "jax_cache"))
  yield
  compilation_cache.reset_cache()
  for name, value in saved.items():
    jax.config.update(name, value)
