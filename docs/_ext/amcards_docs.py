"""Sphinx helpers that keep the documentation honest.

``.. package-names:: MODULE`` lists the names a module exports, each
linked to its documentation, wherever it is defined.

``.. command-output:: amcards ARGS...`` runs the ``amcards`` command in
this process, at build time, and shows what it printed (standard output
and standard error, in the order they were written).  The exit status
must be the one given with ``:returncode:`` (0 by default), and every
line of ``:contains:`` must appear in the output; otherwise the build
warns, which fails a build run with warnings as errors.  The command
line reference is made of these, so it is always the parser's own help.
With ``:scratch:`` the command runs in a folder of the page's own, where
the files it writes stay for the page's later commands.

The package check runs once everything has been read: every module of
the package with an ``__all__`` must be documented with ``automodule``,
every name in an ``__all__`` must be documented somewhere (a name that
is only re-exported counts where it is defined), every field of a
documented attrs class must be described, and every documented class,
function, method and property must have a docstring.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import io
import os
import pkgutil
import shlex
import sys
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import attrs
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docstrings import prepare_docstring
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]

#: Modules that have no public names of their own.
NOT_DOCUMENTED = {
    "amcards.__main__": "runs the command line",
    "amcards.core": "a namespace; its modules are documented",
    "amcards.transports.fake.__main__": "runs the fake server",
    "amcards.transports.fake.wire": "the fake service's own wire format",
}

#: Documented objects whose docstrings may be empty.
_NEEDS_DOCSTRING = ("class", "exception", "function", "method", "property")


# Running the command line ------------------------------------------------


_SCRATCH: list[tempfile.TemporaryDirectory[str]] = []


def scratch_folder(env: BuildEnvironment) -> Path:
    """A folder for the page being read, with ``docs`` linked into it.

    Commands run there see the repository's ``docs/`` as in the root,
    and the files they write (a journal) last until the page is read.
    """
    folder = env.temp_data.get("amcards_scratch")
    if folder is None:
        holder = tempfile.TemporaryDirectory(prefix="amcards-docs-")
        _SCRATCH.append(holder)
        folder = Path(holder.name)
        (folder / "docs").symlink_to(ROOT / "docs")
        env.temp_data["amcards_scratch"] = folder
    return Path(folder)


def remove_scratch(app: Sphinx, exception: BaseException | None) -> None:
    """Delete the scratch folders once the build is over."""
    while _SCRATCH:
        _SCRATCH.pop().cleanup()


@contextlib.contextmanager
def _command_setting(where: Path) -> Iterator[io.StringIO]:
    """Capture both streams, no terminal, a fixed width, in ``where``."""
    captured = io.StringIO()
    saved_env = {k: os.environ.get(k) for k in ("COLUMNS", "LINES")}
    saved_cwd = Path.cwd()
    saved_stdin = sys.stdin
    os.environ["COLUMNS"] = "80"
    os.environ["LINES"] = "25"
    os.chdir(where)
    sys.stdin = io.StringIO("")
    try:
        with (
            contextlib.redirect_stdout(captured),
            contextlib.redirect_stderr(captured),
        ):
            yield captured
    finally:
        sys.stdin = saved_stdin
        os.chdir(saved_cwd)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_command(argv: list[str], where: Path = ROOT) -> tuple[int, str]:
    """Run ``amcards ARGV`` in this process; its status and output."""
    from amcards.cli import main

    with _command_setting(where) as captured:
        status = main(argv)
    return status, captured.getvalue()


class CommandOutput(SphinxDirective):
    """Show what an ``amcards`` command prints, run at build time."""

    required_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = {
        "returncode": directives.nonnegative_int,
        "contains": directives.unchanged,
        "scratch": directives.flag,
    }

    def run(self) -> list[nodes.Node]:
        words = shlex.split(self.arguments[0])
        if words[:1] != ["amcards"]:
            raise self.error("command-output runs 'amcards ...' only")
        where = ROOT
        if "scratch" in self.options:
            where = scratch_folder(self.env)
        status, output = run_command(words[1:], where)
        if words[-1] == "--help":
            _help_pages(self.env).setdefault(self.env.docname, set()).add(
                " ".join(words[1:-1])
            )
        expected = self.options.get("returncode", 0)
        location = self.get_location()
        if status != expected:
            logger.warning(
                "%r exited %s, expected %s:\n%s",
                self.arguments[0],
                status,
                expected,
                output,
                location=location,
            )
        for line in self.options.get("contains", "").splitlines():
            if line.strip() and line.strip() not in output:
                logger.warning(
                    "%r did not print %r",
                    self.arguments[0],
                    line.strip(),
                    location=location,
                )
        text = f"$ {self.arguments[0]}\n{output.rstrip()}"
        block = nodes.literal_block(text, text)
        block["language"] = "console"
        return [block]


class PackageNames(SphinxDirective):
    """List a module's ``__all__``, each name linked to where it lives."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        module_name = self.arguments[0]
        module = importlib.import_module(module_name)
        items = nodes.bullet_list()
        for name in module.__all__:
            value = getattr(module, name)
            home = getattr(value, "__module__", None)
            qualname = getattr(value, "__qualname__", None)
            if isinstance(value, type) or callable(value):
                target = f"{home}.{qualname}"
            else:
                target = f"{module_name}.{name}"
            ref = addnodes.pending_xref(
                "",
                refdomain="py",
                reftype="obj",
                reftarget=target,
                refexplicit=True,
                refwarn=True,
                refdoc=self.env.docname,
            )
            ref += nodes.literal(name, name)
            paragraph = nodes.paragraph()
            paragraph += ref
            item = nodes.list_item()
            item += paragraph
            items += item
        return [items]


def _help_pages(env: BuildEnvironment) -> dict[str, set[str]]:
    """The ``--help`` outputs shown, by page (kept with the environment)."""
    if not hasattr(env, "amcards_help"):
        env.amcards_help = {}  # type: ignore[attr-defined]
    pages: dict[str, set[str]] = env.amcards_help  # type: ignore[attr-defined]
    return pages


def forget_page(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """Drop what a page showed before it is read again."""
    _help_pages(env).pop(docname, None)


def check_commands(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn about a command whose ``--help`` no page shows."""
    from amcards.cli import build_parser

    shown = set().union(*_help_pages(env).values())
    commands = [""]
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            commands.extend(action.choices)
    for command in commands:
        if command not in shown:
            name = f"amcards {command}".strip()
            logger.warning("no page shows '%s --help'", name)


# The package check -------------------------------------------------------


def public_modules() -> Iterator[str]:
    """The name of every module of the package, the package first."""
    import amcards

    yield "amcards"
    for info in pkgutil.walk_packages(amcards.__path__, "amcards."):
        yield info.name


def _documented_home(
    name: str, value: Any, module: str, objects: set[str]
) -> bool:
    if f"{module}.{name}" in objects:
        return True
    home = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if (inspect.isclass(value) or callable(value)) and home and qualname:
        return f"{home}.{qualname}" in objects
    for other in objects:
        head, _, tail = other.rpartition(".")
        module = sys.modules.get(head) if tail == name else None
        if module is not None and getattr(module, name, None) is value:
            return True
    return False


def _check_attrs_fields(cls: type, where: str, objects: set[str]) -> None:
    for field in attrs.fields(cls):
        if field.name.startswith("_"):
            continue
        if f"{where}.{field.name}" not in objects:
            logger.warning(
                "%s: field %r is not described (add it to the class "
                "docstring's Attributes section)",
                where,
                field.name,
            )


_MEMBER_KINDS = (
    types.FunctionType,
    property,
    classmethod,
    staticmethod,
)


def _check_members(cls: type, where: str, objects: set[str]) -> None:
    for name, value in vars(cls).items():
        if name.startswith("_") or not isinstance(value, _MEMBER_KINDS):
            continue
        if f"{where}.{name}" not in objects:
            logger.warning(
                "%s.%s is public but not documented (no docstring?)",
                where,
                name,
            )


def check_package(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn about public names the reference leaves out."""
    domain = env.get_domain("py")
    entries = dict(domain.objects)  # type: ignore[attr-defined]
    objects = set(entries)
    documented_modules = {
        name for name, entry in entries.items() if entry.objtype == "module"
    }
    for module_name in public_modules():
        if module_name in NOT_DOCUMENTED:
            continue
        module = importlib.import_module(module_name)
        public = getattr(module, "__all__", None)
        if public is None:
            logger.warning("%s has no __all__", module_name)
            continue
        if module_name not in documented_modules:
            logger.warning("module %s is not documented", module_name)
        for name in public:
            value = getattr(module, name)
            if not _documented_home(name, value, module_name, objects):
                logger.warning(
                    "public name %s.%s is not documented", module_name, name
                )
    for full_name, entry in entries.items():
        if entry.objtype not in ("class", "exception"):
            continue
        module_name, _, qualname = full_name.rpartition(".")
        value = getattr(sys.modules.get(module_name), qualname, None)
        if not isinstance(value, type):
            continue
        _check_members(value, full_name, objects)
        if attrs.has(value):
            _check_attrs_fields(value, full_name, objects)


def drop_borrowed_docstring(
    app: Sphinx,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    lines: list[str],
) -> None:
    """Leave out the docstring a value borrows from its type.

    A constant such as a tuple of keys has no docstring of its own, and
    Python answers with ``tuple``'s; showing that would mislead.
    """
    if what not in ("data", "attribute") or not lines:
        return
    borrowed = [type(obj), getattr(obj, "__origin__", None)]
    text = "\n".join(lines).strip()
    for source in borrowed:
        doc = getattr(source, "__doc__", None)
        if not isinstance(doc, str):
            continue
        if text == "\n".join(prepare_docstring(doc)).strip():
            lines.clear()
            return


def require_docstring(
    app: Sphinx,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    lines: list[str],
) -> None:
    """Warn when a documented public object has no docstring."""
    if what not in _NEEDS_DOCSTRING or any(line.strip() for line in lines):
        return
    logger.warning("%s %s has no docstring", what, name)


def _home_name(target: str) -> str | None:
    """Where ``package.Name.member`` is defined, if it is re-exported."""
    parts = target.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:cut]))
        if module is None:
            continue
        value = getattr(module, parts[cut], None)
        home = getattr(value, "__module__", None)
        qualname = getattr(value, "__qualname__", None)
        if not (home and qualname):
            return None
        return ".".join([home, qualname, *parts[cut + 1 :]])
    return None


def _same_value(target: str, entries: dict[str, Any]) -> list[Any]:
    """Documented names bound to the very value ``target`` names."""
    head, _, tail = target.rpartition(".")
    missing = object()
    value = getattr(sys.modules.get(head), tail, missing)
    if value is missing:
        return []
    found = []
    for name, entry in entries.items():
        home, _, last = name.rpartition(".")
        if (
            last == tail
            and getattr(sys.modules.get(home), tail, None) is value
        ):
            found.append((name, entry))
    return found


def resolve_short_name(
    app: Sphinx,
    env: BuildEnvironment,
    node: addnodes.pending_xref,
    contnode: nodes.TextElement,
) -> nodes.reference | None:
    """Resolve ``Name`` or ``Class.member`` to the one object so named.

    Docstrings name the package's objects as their own module sees them
    (``SendOutcomeUnknownError`` in the client); the reference documents
    each where it is defined.  A name that ends exactly one documented
    object's full name is taken to mean it.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip(".~")
    domain = env.get_domain("py")
    entries = domain.objects  # type: ignore[attr-defined]
    home = _home_name(target)
    if home in entries:
        found = [(home, entries[home])]
    else:
        found = [
            (name, entry)
            for name, entry in entries.items()
            if name.endswith("." + target)
        ]
    if not found:
        found = _same_value(target, entries)
    if len(found) != 1:
        return None
    name, entry = found[0]
    return make_refnode(
        app.builder,
        node["refdoc"],
        entry.docname,
        entry.node_id,
        contnode,
        name,
    )


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("command-output", CommandOutput)
    app.add_directive("package-names", PackageNames)
    app.connect("missing-reference", resolve_short_name)
    app.connect(
        "autodoc-process-docstring", drop_borrowed_docstring, priority=100
    )
    app.connect("autodoc-process-docstring", require_docstring)
    app.connect("env-check-consistency", check_package)
    app.connect("env-check-consistency", check_commands)
    app.connect("env-purge-doc", forget_page)
    app.connect("build-finished", remove_scratch)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
