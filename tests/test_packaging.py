"""What ``pip install memr_snn`` (a wheel, not the editable install the tests run on) ships.

The package list in ``pyproject.toml`` is explicit (three top-level folders install inside
``memr_snn``), so a new subpackage that is not added to it is silently left out of the wheel while
every editable-install test still passes.  The first two tests check the list statically against the
source tree; the third builds the wheel and looks inside it.
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")

ROOT = Path(__file__).resolve().parents[1]


def _config() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["tool"]["setuptools"]


def _source_packages() -> dict[str, Path]:
    """Installed package name -> its source folder, for every folder with an ``__init__.py``."""
    dirs = _config()["package-dir"]
    found: dict[str, Path] = {}
    for package, folder in dirs.items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            rel = init.parent.relative_to(base).parts
            found[".".join((package, *rel))] = init.parent
    return found


def test_every_subpackage_is_in_the_package_list():
    listed = set(_config()["packages"])
    missing = sorted(set(_source_packages()) - listed)
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_every_data_file_is_package_data():
    config = _config()
    packages = _source_packages()
    uncovered = []
    for name, folder in packages.items():
        globs = config.get("package-data", {}).get(name, [])
        for path in folder.rglob("*"):
            if not path.is_file() or path.suffix in {".py", ".pyc"} or "__pycache__" in path.parts:
                continue
            # files in a subfolder that is itself a package belong to that package
            owner = path.parent
            while owner != folder and not (owner / "__init__.py").exists():
                owner = owner.parent
            if owner != folder:
                continue
            rel = path.relative_to(folder).as_posix()
            if not any(fnmatch.fnmatch(rel, pattern) for pattern in globs):
                uncovered.append(f"{name}: {rel}")
    assert not uncovered, f"add to [tool.setuptools.package-data] in pyproject.toml: {uncovered}"


def test_the_wheel_holds_every_module_and_data_file(tmp_path):
    # build from the tracked files only: a build/ or *.egg-info folder left in the working tree lets
    # setuptools carry files into the wheel that a fresh clone would not
    listing = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True)
    if listing.returncode != 0:
        pytest.skip("not a git checkout: the tracked files are unknown")
    source = tmp_path / "src"
    tracked = {name for name in listing.stdout.decode().split("\0") if name}
    for name in tracked:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(source)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("memr_snn-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = []
    for package, folder in _source_packages().items():
        target = package.replace(".", "/")
        for path in folder.iterdir():
            if path.is_file() and path.relative_to(ROOT).as_posix() in tracked:
                expected.append(f"{target}/{path.name}")
    missing = sorted(name for name in expected if name not in names)
    assert not missing, f"the wheel lacks {missing[:10]} ({len(missing)} files)"
