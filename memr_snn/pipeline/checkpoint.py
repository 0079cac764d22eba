"""One-file checkpoints of state trees: dicts with string keys whose leaves are numpy arrays, ``bytes`` or JSON
values (the ``state()`` of every stage, and the pipeline's own buffers).

The file is an ``.npz`` (written atomically, :func:`memr_snn.io.atomic.save_npz`) with one entry per array
leaf (``a0``, ``a1``, ...; ``bytes`` as ``uint8`` arrays) and ``meta``: the JSON of the tree with every array
leaf replaced by ``{"__array__": key}`` (``{"__bytes__": key}``).  Nothing is unpickled on load.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..io.atomic import save_npz

__all__ = ["save_tree", "load_tree", "FORMAT"]

#: format tag stored in every checkpoint
FORMAT = "memr_snn.pipeline_checkpoint/1"


def _encode(tree, arrays: dict, where: str):
    if isinstance(tree, dict):
        out = {}
        for k, v in tree.items():
            if not isinstance(k, str):
                raise TypeError(f"state {where}: keys must be strings, got {k!r}")
            out[k] = _encode(v, arrays, f"{where}/{k}")
        return out
    if isinstance(tree, np.ndarray):
        if tree.dtype.kind not in "biufc":
            raise TypeError(f"state {where}: arrays must be numeric, got dtype {tree.dtype}")
        key = f"a{len(arrays)}"
        arrays[key] = tree
        return {"__array__": key}
    if isinstance(tree, (bytes, bytearray)):
        key = f"a{len(arrays)}"
        arrays[key] = np.frombuffer(bytes(tree), dtype=np.uint8)
        return {"__bytes__": key}
    if isinstance(tree, (list, tuple)):
        return [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(tree)]
    if isinstance(tree, (np.integer, np.floating, np.bool_)):
        return tree.item()
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    raise TypeError(f"state {where}: cannot store a {type(tree).__name__} (use arrays, bytes or JSON values)")


def _decode(tree, files):
    if isinstance(tree, dict):
        if set(tree) == {"__array__"}:
            return np.array(files[tree["__array__"]])
        if set(tree) == {"__bytes__"}:
            return files[tree["__bytes__"]].tobytes()
        return {k: _decode(v, files) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_decode(v, files) for v in tree]
    return tree


def save_tree(path: str | Path, tree: dict) -> Path:
    """Write ``tree`` to ``path`` (an ``.npz``), atomically."""
    arrays: dict[str, np.ndarray] = {}
    meta = {"format": FORMAT, "tree": _encode(tree, arrays, "")}
    text = json.dumps(meta, allow_nan=True)
    return save_npz(path, compressed=True, meta=np.frombuffer(text.encode(), dtype=np.uint8), **arrays)


def load_tree(path: str | Path) -> dict:
    """Read a tree written by :func:`save_tree` (``ValueError`` for another kind of file)."""
    with np.load(Path(path), allow_pickle=False) as f:
        files = {k: f[k] for k in f.files}
    if "meta" not in files:
        raise ValueError(f"{path}: not a pipeline checkpoint (no 'meta' entry)")
    meta = json.loads(files["meta"].tobytes().decode())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
    return _decode(meta["tree"], files)
