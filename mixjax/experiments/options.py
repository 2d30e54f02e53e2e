"""Command-line option helpers shared by the experiments' `add_arguments`.

Every experiment option is spelled `--snake_case`, like the flags of train.py, and named
after the `run` keyword it sets (`--batch_size 64` arrives as `batch_size=64`). An older
dashed spelling (`--batch-size`) keeps working for one release through :func:`add`'s
`old=`: it is hidden from `--help` and prints a deprecation message on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from mixjax import _moved


def comma_list(kind: Callable[[str], Any]) -> Callable[[str], tuple[Any, ...]]:
  """A parser of comma-separated values: `comma_list(float)("0.2,0.5")` is `(0.2, 0.5)`.

  Empty items are skipped (`"1,2,"` is `(1, 2)`, `""` is `()`).

  Args:
    kind: converts one item, e.g. `int`, `float` or `str`.

  Returns:
    The parser, named for argparse's error messages ("invalid comma-separated ints value").
  """

  def parse(text: str) -> tuple[Any, ...]:
    return tuple(kind(part) for part in text.split(",") if part.strip())

  parse.__name__ = f"comma-separated {kind.__name__}s"
  return parse


class _OldSpelling(argparse.Action):
  """Stores the value like the new option, after a deprecation message on stderr."""

  def __init__(self, option_strings, dest, *, new: str, **kwargs):
    super().__init__(option_strings, dest, **kwargs)
    self.new = new

  def __call__(self, parser, namespace, values, option_string=None):
    print(
      f"warning: {option_string} is deprecated; use {self.new} "
      f"(the old spelling will be removed in mixjax {_moved.REMOVED_IN}).",
      file=sys.stderr,
    )
    setattr(namespace, self.dest, values)


def add(parser: Any, name: str, *, old: Sequence[str] = (), **kwargs: Any) -> None:
  """`parser.add_argument(name, **kwargs)`, plus deprecated spellings `old` of it.

  Args:
    parser: an argparse parser or argument group.
    name: the option, `--snake_case`; its `dest` is the name without the dashes.
    old: earlier spellings (e.g. `"--batch-size"`) that still work, hidden from --help.
    **kwargs: `add_argument`'s, e.g. `type`, `choices`, `help`.
  """
  if not name.startswith("--") or "-" in name[2:]:
    raise ValueError(f"`name` must be spelled --snake_case, got {name!r}.")
  action = parser.add_argument(name, **kwargs)
  for spelling in old:
    parser.add_argument(
      spelling,
      dest=action.dest,
      type=action.type,
      choices=action.choices,
      help=argparse.SUPPRESS,
      action=_OldSpelling,
      new=name,
    )
