"""Turning models into plain values and back, for caches, ledgers and files.

The package builds its own cattrs converter here rather than using cattrs'
global one, so that nothing another library registers can change how an
AMcards model is stored.  Plain values are JSON-ready: datetimes become
ISO 8601 strings (an offset is kept when there is one), enums their
values, and sets sorted lists.

cattrs is imported only when a converter is first built, so importing this
module costs nothing.  Parsing answers of the service does not go through
the converter; see :mod:`amcards.core.parsers`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Set
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import cattrs

__all__ = ["from_plain", "get_converter", "make_converter", "to_plain"]

T = TypeVar("T")


def _datetime_from_plain(value: Any, _type: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    raise TypeError(
        f"expected an ISO 8601 string for a datetime, got "
        f"{type(value).__name__}"
    )


def _sorted_list(values: Set[Any]) -> list[Any]:
    return sorted(values)


def make_converter() -> cattrs.Converter:
    """Build a new converter for the models.

    Returns:
        A :class:`cattrs.Converter` that unstructures datetimes to ISO 8601
        strings, enums to their values and sets to sorted lists, and
        structures them back.
    """
    import cattrs

    converter = cattrs.Converter(
        unstruct_collection_overrides={Set: _sorted_list},
    )
    converter.register_unstructure_hook(dt.datetime, dt.datetime.isoformat)
    converter.register_structure_hook(dt.datetime, _datetime_from_plain)
    return converter


@functools.cache
def get_converter() -> cattrs.Converter:
    """Return the package's shared converter, built on first use."""
    return make_converter()


def to_plain(value: Any) -> Any:
    """Turn a model (or a list or dict of models) into plain values."""
    return get_converter().unstructure(value)


def from_plain(data: Any, cls: type[T]) -> T:
    """Rebuild a ``cls`` from the plain values :func:`to_plain` made.

    Raises:
        cattrs.BaseValidationError: ``data`` does not fit ``cls``.
    """
    return get_converter().structure(data, cls)
