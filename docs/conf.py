"""Sphinx configuration of the mixjax docs (`make docs`; built with -W --keep-going in CI)."""

import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)  # The checkout's mixjax, not an installed copy.
sys.path.insert(0, os.path.join(ROOT, "docs", "_ext"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import mixjax  # noqa: E402

project = "mixjax"
author = "mixjax authors"
copyright = "the mixjax authors"  # noqa: A001
release = mixjax.__version__
version = release

extensions = [
  "sphinx.ext.autodoc",
  "sphinx.ext.napoleon",
  "sphinx.ext.viewcode",
  "myst_parser",
  "mixjax_docs",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_ext"]
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

napoleon_google_docstring = True
napoleon_numpy_docstring = False
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
# Backquoted names in docstrings (`x`) are code, as in the README.
default_role = "code"
# Keep "none" | "mixup" as written (no typographic quotes in values).
smartquotes = False

html_theme = "alabaster"
html_title = f"mixjax {release}"
