"""Guard against a checkout on ``PYTHONPATH`` beside an installed (e.g. editable) memr_snn of another tree.

``memr_snn.encoders``, ``memr_snn.networks`` and ``memr_snn.bci`` live in top-level folders of the
source tree (``encoders/`` ...) and are mapped into ``memr_snn`` by the install (pyproject
``package-dir``).  With one checkout's ``memr_snn/`` first on ``sys.path`` and another checkout
installed, ``memr_snn`` would come from one tree and ``memr_snn.encoders`` from the other, silently.
"""

from __future__ import annotations

import sys
from pathlib import Path


def check_same_tree(package_file: str, name: str) -> None:
    """Raise ``ImportError`` if the package ``name`` (its ``__init__`` at ``package_file``) is not from memr_snn's tree.

    Accepted layouts: an installed package (``.../memr_snn/encoders``) and a source tree
    (``ROOT/memr_snn`` beside ``ROOT/encoders``).
    """
    here = Path(package_file).resolve().parent.parent
    core = Path(sys.modules["memr_snn"].__file__).resolve().parent  # the memr_snn actually imported
    if here in (core, core.parent):
        return
    raise ImportError(
        f"memr_snn.{name} was imported from {here} but memr_snn itself from {core.parent}: two different trees "
        f"are mixed (typically a source checkout on PYTHONPATH or the current directory beside an install of "
        f"another checkout).  Use one tree: run from the checkout that is installed, reinstall this checkout "
        f"(pip install -e .), or remove the other one from PYTHONPATH.")
