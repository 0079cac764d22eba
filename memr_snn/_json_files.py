"""Built-in JSON parameter files (device presets, core profiles): list, read by name or path, write.

Presets are data users save, edit and load (``docs/devices.md``, ``docs/mapping.md``); both kinds
share these rules: a name is looked up among the ``*.json`` files shipped in a package folder, a
string ending in ``.json`` or containing a path separator is a path, and every failure raises the
caller's error class with a message naming the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["builtin_names", "read_named_json", "write_json", "parse_json", "jsonable"]


def builtin_names(folder) -> list[str]:
    """Names (without ``.json``) of the files in a package resource folder, sorted."""
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def write_json(data: dict[str, Any], path: str | Path) -> Path:
    """Write ``data`` as indented JSON (NaN refused) to ``path``; returns the path."""
    path = Path(path)
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n")
    return path


def parse_json(text: str, where: str, error: type[Exception]) -> Any:
    """Decode JSON text from a file the user handed us; every failure raises ``error`` naming ``where``.

    Besides syntax errors this catches what :func:`json.loads` lets escape on hostile input:
    ``RecursionError`` for deeply nested arrays/objects and ``ValueError`` for integers of more
    than 4300 digits.

    Parameters
    ----------
    text : str
        The file's text.
    where : str
        The file (or a description of it) for messages.
    error : type
        Exception class raised on any failure.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise error(f"{where}: malformed JSON (arrays/objects nested too deeply)") from None
    except ValueError as exc:  # json.JSONDecodeError, or an integer literal beyond Python's digit limit
        raise error(f"{where}: malformed JSON ({exc})") from None


def read_named_json(name_or_path: str | Path, folder, *, kind: str, short: str,
                    error: type[Exception]) -> tuple[Any, str]:
    """The parsed JSON of a built-in file by name or of a file by path, and where it came from.

    Parameters
    ----------
    name_or_path : str or Path
        A built-in name (see :func:`builtin_names`) or a path.
    folder
        The package resource folder of the built-in files.
    kind, short : str
        Words for messages, e.g. ``"device preset"`` and ``"preset"``.
    error : type
        Exception class raised on any failure.

    Returns
    -------
    (data, where)
        The decoded JSON and a description of its origin for later messages.
    """
    s = str(name_or_path)
    if isinstance(name_or_path, Path) or s.endswith(".json") or "/" in s or "\\" in s:
        where = s
        try:
            text = Path(name_or_path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise error(f"{where}: cannot read {kind} ({exc})") from None
    else:
        known = builtin_names(folder)
        if s not in known:
            raise error(f"unknown {kind} {s!r}; known {short}s: {known}")
        where = f"built-in {short} {s!r}"
        text = folder.joinpath(f"{s}.json").read_text(encoding="utf-8")
    return parse_json(text, where, error), where


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars and arrays, tuples and paths turned into JSON types (dict keys as str)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return obj
