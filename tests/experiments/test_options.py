"""Option spellings and comma lists of the experiment CLIs."""

from __future__ import annotations

import argparse

import pytest

from mixjax.experiments import options


def _parser():
  parser = argparse.ArgumentParser(prog="demo")
  group = parser.add_argument_group("demo options", argument_default=argparse.SUPPRESS)
  options.add(group, "--batch_size", old=["--batch-size"], type=int, help="the batch")
  options.add(group, "--sizes", type=options.comma_list(int))
  return parser


def test_comma_list():
  assert options.comma_list(float)("0.2,0.5") == (0.2, 0.5)
  assert options.comma_list(int)("100,150,") == (100, 150)
  assert options.comma_list(int)("") == ()
  assert options.comma_list(str)("ring,grid") == ("ring", "grid")
  assert options.comma_list(int).__name__ == "comma-separated ints"


def test_snake_case_option_and_its_old_spelling(capsys):
  parser = _parser()
  assert vars(parser.parse_args(["--batch_size", "8", "--sizes", "1,2"])) == {
    "batch_size": 8,
    "sizes": (1, 2),
  }
  assert "deprecated" not in capsys.readouterr().err
  assert vars(parser.parse_args(["--batch-size", "8"])) == {"batch_size": 8}
  err = capsys.readouterr().err
  assert "--batch-size is deprecated; use --batch_size" in err and "removed in mixjax" in err
  assert vars(parser.parse_args([])) == {}  # Not given: not passed.
  help_text = parser.format_help()
  assert "--batch_size" in help_text and "--batch-size" not in help_text
  with pytest.raises(SystemExit):
    parser.parse_args(["--sizes", "1,x"])
  assert "invalid comma-separated ints value" in capsys.readouterr().err


def test_names_must_be_snake_case():
  with pytest.raises(ValueError, match="--snake_case"):
    options.add(argparse.ArgumentParser(), "--batch-size", type=int)
