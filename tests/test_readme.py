"""Every ```python block of README.md and of the docs' Markdown pages runs.

A block that is not meant to run says so in its fence: ```python no-test. The few names the
README's blocks assume (a model, its parameters, batches) are defined here, in `ASSUMED`.
"""

from __future__ import annotations

import pathlib
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```python(?P<info>[^\n]*)\n(?P<code>.*?)^```\s*$", re.MULTILINE | re.DOTALL)
PAGES = ["README.md"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))


def python_blocks(text: str) -> list[tuple[int, str, bool]]:
  """(line number, code, runs) of every ```python block; `no-test` in the fence skips it."""
  blocks = []
  for match in FENCE.finditer(text):
    line = text.count("\n", 0, match.start()) + 1
    runs = "no-test" not in match.group("info").split()
    blocks.append((line, match.group("code"), runs))
  return blocks


class _LinearModel:
  """What the README's `model` must offer: `apply(params, images) -> logits`."""

  def apply(self, params, images):
    return images.reshape(images.shape[0], -1) @ params["w"]


def _batches(num_batches: int = 2, batch_size: int = 8):
  rng = np.random.default_rng(0)
  for _ in range(num_batches):
    yield (
      jnp.asarray(rng.random((batch_size, 8, 8, 1), np.float32)),
      jnp.asarray(rng.integers(0, 10, batch_size)),
    )


def assumed_names() -> dict:
  """The names README blocks use without defining them."""
  return {
    "model": _LinearModel(),
    "params": {"w": jnp.zeros((8 * 8 * 1, 10))},
    "batches": _batches(),
  }


def _cases():
  for page in PAGES:
    for line, code, runs in python_blocks((ROOT / page).read_text()):
      yield pytest.param(code, runs, id=f"{page}:{line}")


def test_the_fence_parser_finds_and_marks_blocks():
  text = "x\n```python\na = 1\n```\n```python no-test\nb = undefined\n```\n```bash\nls\n```\n"
  assert python_blocks(text) == [(2, "a = 1\n", True), (5, "b = undefined\n", False)]


def test_readme_has_python_blocks_and_counts_the_skipped_ones():
  blocks = python_blocks((ROOT / "README.md").read_text())
  runnable = [b for b in blocks if b[2]]
  assert runnable, "README.md has no runnable ```python block"
  skipped = len(blocks) - len(runnable)
  # Every skipped block must be marked explicitly, so the count is what the README says.
  assert skipped == (ROOT / "README.md").read_text().count("```python no-test")


@pytest.mark.parametrize(("code", "runs"), list(_cases()))
def test_markdown_python_block_runs(code, runs):
  if not runs:
    pytest.skip("marked ```python no-test")
  namespace = {"__name__": "__readme__", **assumed_names()}
  exec(compile(code, "<markdown block>", "exec"), namespace)  # noqa: S102
  # A block that trains must leave finite results behind.
  for name in ("grads", "params", "loss"):
    if name in namespace:
      leaves = jax.tree.leaves(namespace[name])
      assert all(bool(jnp.isfinite(leaf).all()) for leaf in leaves), name
