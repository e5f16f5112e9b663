"""Sphinx settings for the amcards documentation.

Build it with ``docs/build.sh``: warnings are errors, and the doctest
builder runs every example against the embedded fake service.
"""

from __future__ import annotations

import doctest
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# Document the checkout this file sits in, whatever else is installed.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE / "_ext"))

import amcards  # noqa: E402

project = "amcards"
author = "the amcards authors"
copyright = "the amcards authors"
release = amcards.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.napoleon",
    "amcards_docs",
]

exclude_patterns = ["_build"]
templates_path: list[str] = []
root_doc = "index"
default_role = "py:obj"
pygments_style = "sphinx"

# Every cross-reference must resolve.  Names from outside the package
# cannot (no inventory is fetched from the network), so they are listed.
nitpicky = True
nitpick_ignore_regex = [
    ("py:.*", r"(typing|typing_extensions|collections\.abc)\..*"),
    ("py:.*", r"(datetime|dt|enum|os|pathlib|ssl|sqlite3|argparse)\..*"),
    ("py:.*", r"(socket|threading)\..*"),
    ("py:.*", r"(attrs|attr|cattrs|urllib3|http|io|types)\..*"),
    ("py:class", r"(Any|Callable|Iterator|Iterable|Mapping|Sequence)"),
    ("py:class", r"(Hashable|Literal|TypeVar|Set|Path|PathLike)"),
    ("py:class", r"(str|int|float|bool|bytes|dict|list|tuple|set|object)"),
    ("py:class", r"(frozenset|type|None|NoneType|Exception|ValueError)"),
    ("py:class", r"(BaseException|TracebackType|KeyError|RuntimeError)"),
    ("py:.*", r"(.*\.)?(T|_\w+)"),
    ("py:.*", r"amcards\.transports\.fake\.wire\..*"),
]

# API reference from the docstrings (Google style).
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_class_signature = "mixed"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_attr_annotations = True

# The examples: each page builds its own client on the fake service, and
# files are named from the repository's root, as the command line is run.
doctest_test_doctest_blocks = "default"
doctest_global_setup = f"import os\nos.chdir({str(ROOT)!r})"
doctest_default_flags = (
    doctest.ELLIPSIS
    | doctest.NORMALIZE_WHITESPACE
    | doctest.DONT_ACCEPT_TRUE_FOR_1
)
trim_doctest_flags = True

html_theme = "alabaster"
html_title = f"amcards {release}"
html_theme_options = {
    "description": "A Python client for the AMcards API",
    "fixed_sidebar": False,
    "show_relbars": True,
}
html_static_path: list[str] = []
html_show_sourcelink = False
