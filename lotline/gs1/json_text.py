"""`json.dumps(value, indent=2, ensure_ascii=False)`, byte for byte, about twice as fast.

With `indent` set, the standard library encodes in pure Python through nested generators (5 s
for the 144 MB EPCIS document of a hub recall report). This writer walks dicts and lists with
one recursive function and leaves strings to the library's C escaper; anything it does not know
(other key or value types, `default` hooks) is left to `json.dumps` itself, so the text is always
the standard library's.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring  # the C escaper json.dumps uses (ensure_ascii=False)
from typing import Any


class _Other(Exception):
    """A value the standard library's own encoder should handle."""


def dumps_indent2(value: Any) -> str:
    """`json.dumps(value, indent=2, ensure_ascii=False)`."""
    parts: list[str] = []
    try:
        _write(value, "\n", parts.append)
    except (_Other, RecursionError):
        return json.dumps(value, indent=2, ensure_ascii=False)
    return "".join(parts)


def _scalar(value: Any) -> str:
    """A non-container value as `json.dumps` writes it (bool before int, as it checks)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    raise _Other


def _write(value: Any, newline: str, emit: Any) -> None:
    """Append `value` at the nesting whose line break and indent is `newline`."""
    if isinstance(value, str):
        emit(encode_basestring(value))
    elif isinstance(value, dict):
        if not value:
            emit("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Other  # json.dumps turns numbers and None into keys its own way
            emit(separator + encode_basestring(key) + ": ")
            separator = "," + inner
            _write(item, inner, emit)
        emit(newline + "}")
    elif isinstance(value, list | tuple):
        if not value:
            emit("[]")
            return
        inner = newline + "  "
        if all(type(item) is str for item in value):
            emit("[" + inner + ("," + inner).join(map(encode_basestring, value)) + newline + "]")
            return
        separator = "[" + inner
        for item in value:
            emit(separator)
            separator = "," + inner
            _write(item, inner, emit)
        emit(newline + "]")
    else:
        emit(_scalar(value))
