"""Environment report for ``memr-snn info`` and memory queries for the engine.

:func:`collect_info` gathers what is useful in a bug report or a benchmark
record: versions, CPU and memory, numba's threading and cache settings, which
optional packages are present, and whether a Python 3.10 interpreter for the
Lava adapter can be found.  :func:`format_info` turns that dictionary into text.

Optional packages are detected with :func:`importlib.util.find_spec` and
:func:`importlib.metadata.version`, which do not import them (importing brian2
or nest takes seconds and NEST prints a banner).  numba *is* imported, because
its effective thread count and threading layer exist only at run time.

:func:`available_memory_bytes` is what the engine uses to refuse a network that
cannot fit.  On Linux it is ``MemAvailable`` from ``/proc/meminfo``, lowered to
the headroom left under the process's memory cgroup limit when there is one:
in a container, a CI runner or a Slurm job, ``/proc/meminfo`` describes the
whole host, and exceeding the cgroup limit gets the process killed rather than
swapped.

Examples
--------
>>> info = collect_info()
>>> sorted(info["packages"])
['matplotlib', 'numba', 'numpy', 'scipy']
>>> text = format_info(info)
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "PYTHON310_ENV",
    "CORE_PACKAGES",
    "OPTIONAL_PACKAGES",
    "collect_info",
    "format_info",
    "available_memory_bytes",
    "total_memory_bytes",
    "max_threads",
    "machine_threads",
    "find_python310",
]

PYTHON310_ENV = "MEMR_SNN_PYTHON310"
"""Environment variable naming the Python 3.10 interpreter used for Lava."""

CORE_PACKAGES: tuple[str, ...] = ("numpy", "numba", "scipy", "matplotlib", "tqdm")
"""Required dependencies whose versions :func:`collect_info` reports."""

OPTIONAL_PACKAGES: tuple[tuple[str, str], ...] = (
    ("brian2", "brian2"),
    ("nest-simulator", "nest"),
    ("lava-nc", "lava"),
    ("nir", "nir"),
    ("psutil", "psutil"),
    ("hypothesis", "hypothesis"),
    ("pytest", "pytest"),
)
"""Optional packages as ``(distribution name, top-level module)`` pairs."""

NOT_INSTALLED = "unknown (not installed)"
_NUMBA_DEFAULT_CACHE = ("default (__pycache__ next to each module's source, or a per-user "
                        "cache folder where that is not writable)")
_UNLIMITED = 1 << 62  # cgroup v1 writes "no limit" as a huge page-rounded number
_PROBE = ("import sys, importlib.util; print('%d.%d' % sys.version_info[:2]); "
          "print(int(importlib.util.find_spec('lava') is not None))")


# --------------------------------------------------------------------------- memory


def _read_meminfo(path: Path = Path("/proc/meminfo")) -> dict[str, int]:
    """``/proc/meminfo`` as ``{field: bytes}``; empty where the file does not exist."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return {}
    fields = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            scale = 1024 if len(parts) > 1 and parts[1].lower() == "kb" else 1
            fields[key.strip()] = int(parts[0]) * scale
    return fields


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None  # "max" (cgroup v2) -> None


def _read_stat(path: Path) -> dict[str, int]:
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    out = {}
    for line in lines:
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            out[key] = int(value)
    return out


def _cgroup_memory(
    proc_cgroup: Path = Path("/proc/self/cgroup"),
    root: Path = Path("/sys/fs/cgroup"),
) -> tuple[int | None, int | None]:
    """Tightest memory cgroup ``(limit, headroom)`` in bytes, or ``(None, None)``.

    Headroom is ``limit - usage + inactive file cache`` (page cache the kernel
    reclaims before it kills anything), the same estimate container runtimes use.
    Handles cgroup v1 (``memory`` controller) and v2 (``memory.max`` on the
    cgroup and its ancestors), with or without a cgroup namespace.
    """
    try:
        lines = proc_cgroup.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None, None
    v1_path = v2_path = None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if "memory" in parts[1].split(","):
            v1_path = parts[2]
        elif parts[0] == "0" and parts[1] == "":
            v2_path = parts[2]

    limits: list[tuple[int, int]] = []  # (limit, headroom)
    if v1_path is not None and (root / "memory").is_dir():
        base = root / "memory"
        folder = base / v1_path.lstrip("/")
        if not (folder / "memory.limit_in_bytes").is_file():
            folder = base  # cgroup namespace: our cgroup is mounted as the root
        stats = _read_stat(folder / "memory.stat")
        limit = stats.get("hierarchical_memory_limit", _read_int(folder / "memory.limit_in_bytes"))
        usage = _read_int(folder / "memory.usage_in_bytes")
        if limit is not None and limit < _UNLIMITED and usage is not None:
            inactive = stats.get("total_inactive_file", stats.get("inactive_file", 0))
            limits.append((limit, limit - usage + inactive))
    elif v2_path is not None and (root / "cgroup.controllers").is_file():
        folder = root / v2_path.lstrip("/")
        if not folder.is_dir():
            folder = root
        while True:  # the effective limit is the tightest one up to the root
            limit = _read_int(folder / "memory.max")
            usage = _read_int(folder / "memory.current")
            if limit is not None and usage is not None:
                inactive = _read_stat(folder / "memory.stat").get("inactive_file", 0)
                limits.append((limit, limit - usage + inactive))
            if folder == root or root not in folder.parents:
                break
            folder = folder.parent
    if not limits:
        return None, None
    limit = min(lim for lim, _ in limits)
    headroom = min(max(0, min(room, lim)) for lim, room in limits)
    return limit, headroom


def max_threads() -> int:
    """The most threads a compiled kernel may use: numba's ``NUMBA_NUM_THREADS`` (by default the machine's
    CPU count; the ``NUMBA_NUM_THREADS`` environment variable lowers it)."""
    from numba import config  # imported already by the kernels; read here, not at import time

    return max(1, int(config.NUMBA_NUM_THREADS))


def machine_threads() -> int:
    """Threads a network uses by default: the CPUs this process may run on (``os.sched_getaffinity``, so a
    container's or a job's CPU set counts, not the host's), at most :func:`max_threads`."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, max_threads()))


def available_memory_bytes() -> int | None:
    """Memory a new allocation can use without swapping or being killed [bytes].

    ``MemAvailable`` from ``/proc/meminfo``, lowered to the headroom under the
    process's memory cgroup limit if that is smaller (containers, CI runners,
    Slurm jobs).

    Returns
    -------
    int or None
        Bytes available, or ``None`` where it cannot be known (no
        ``/proc/meminfo``, e.g. macOS or Windows, or a kernel older than 3.14).
        Callers should then skip memory checks rather than refuse.
    """
    available = _read_meminfo().get("MemAvailable")
    if available is None:
        return None
    _, headroom = _cgroup_memory()
    return available if headroom is None else min(available, headroom)


def total_memory_bytes() -> int | None:
    """Physical memory of the machine [bytes] (ignores cgroup limits).

    Returns
    -------
    int or None
        ``MemTotal`` from ``/proc/meminfo``, else page size times physical pages
        from :func:`os.sysconf`, else ``None``.
    """
    total = _read_meminfo().get("MemTotal")
    return total if total is not None else _sysconf_bytes("SC_PHYS_PAGES")


def _sysconf_bytes(pages_name: str) -> int | None:
    try:
        pages = os.sysconf(pages_name)
        page_size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or unknown name
        return None
    return pages * page_size if pages > 0 and page_size > 0 else None


# --------------------------------------------------------------------------- packages


def _dist_version(*names: str) -> str | None:
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        except Exception:  # broken metadata must not break a diagnostic command
            return "unknown (unreadable metadata)"
    return None


def _module_found(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or half-imported module
        return False


def _numba_info() -> dict[str, Any]:
    num_threads_env = os.environ.get("NUMBA_NUM_THREADS")
    out: dict[str, Any] = {
        "numba_threading_layer": None,
        "numba_threading_layer_requested": os.environ.get("NUMBA_THREADING_LAYER", "default"),
        "numba_num_threads": None,
        "numba_num_threads_env": num_threads_env,
        "numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR") or _NUMBA_DEFAULT_CACHE,
    }
    try:
        import numba
    except Exception as exc:  # not installed, or a broken install: report, don't fail
        out["numba_threading_layer"] = f"unavailable (numba cannot be imported: {exc})"
        return out
    out["numba_num_threads"] = int(numba.config.NUMBA_NUM_THREADS)
    out["numba_threading_layer_requested"] = str(numba.config.THREADING_LAYER)
    try:
        out["numba_threading_layer"] = numba.threading_layer()
    except ValueError:  # not chosen yet: numba picks it when parallel code first runs
        try:
            from numba.np.ufunc import parallel

            parallel._launch_threads()  # loads the layer without compiling anything
            out["numba_threading_layer"] = numba.threading_layer()
        except Exception as exc:  # private API, or no usable layer (e.g. tbb requested)
            out["numba_threading_layer"] = f"unavailable ({exc})"
    return out


# --------------------------------------------------------------------------- Python 3.10


def _probe_python(executable: str) -> tuple[str | None, bool | None]:
    """Run ``executable``: its ``major.minor`` version and whether it can import lava."""
    try:
        result = subprocess.run([executable, "-c", _PROBE], capture_output=True, text=True,
                                timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None, None
    lines = result.stdout.split()
    if result.returncode != 0 or len(lines) != 2:
        return None, None
    return lines[0], lines[1] == "1"


def _python310_candidates() -> Iterator[tuple[str, str | None, str | None, bool | None]]:
    """``(where it came from, path, problem or None, lava found)``, lazily, best first."""
    requested = os.environ.get(PYTHON310_ENV)
    sources = [(f"{PYTHON310_ENV}={requested}", requested)] if requested else []
    sources.append(("python3.10 on PATH", "python3.10"))
    for source, name in sources:
        path = shutil.which(name)  # a path is checked as is, a bare name looked up on PATH
        if path is None:
            problem = "not found" if name == "python3.10" else "not found or not executable"
            yield (source, None, problem, None)
            continue
        version, has_lava = _probe_python(path)
        if version is None:
            problem = ("does not run (a pyenv shim without 3.10 selected, "
                       "or a broken interpreter?)")
            yield (source, path, problem, None)
        elif version != "3.10":
            yield (source, path, f"is Python {version}, not 3.10", None)
        else:
            yield (source, path, None, has_lava)


def find_python310() -> str | None:
    """Path of a working Python 3.10 interpreter for the Lava adapter, or ``None``.

    ``$MEMR_SNN_PYTHON310`` is tried first (a path, or a command name looked up
    on ``PATH``), then ``python3.10`` on ``PATH``; :func:`collect_info` notes why
    a candidate was passed over.  Each candidate is run once (a subprocess, up to
    20 s) to check that it really is Python 3.10: a pyenv shim can sit on
    ``PATH`` and fail when called.

    Returns
    -------
    str or None
        The interpreter's path, or ``None`` if no candidate works.
    """
    for _, path, problem, _ in _python310_candidates():
        if problem is None:
            return path
    return None


# --------------------------------------------------------------------------- report


def collect_info() -> dict[str, Any]:
    """Gather versions, hardware, numba settings and optional packages.

    Returns
    -------
    dict
        JSON-serialisable.  Keys: ``memr_snn_version``, ``python_version``,
        ``python_implementation``, ``python_executable``, ``platform``,
        ``cpu_count``, ``cpu_count_usable``, ``memory_total_bytes``,
        ``memory_available_bytes``, ``memory_limit_bytes`` (cgroup, or None),
        ``packages`` (core package -> version or None), ``numba_threading_layer``,
        ``numba_threading_layer_requested``, ``numba_num_threads``,
        ``numba_num_threads_env``, ``numba_cache_dir``, ``optional`` (distribution
        -> ``{"module", "installed", "version"}``), ``lava_python310`` (a path or
        ``"not found"``), ``lava_python310_has_lava`` (bool or None) and
        ``notes`` (list of str).  Unknown numbers are ``None``.
    """
    notes: list[str] = []
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on macOS / Windows
        usable = None
    meminfo = _read_meminfo()
    available = meminfo.get("MemAvailable")
    limit, headroom = _cgroup_memory()
    if available is None:
        available = _sysconf_bytes("SC_AVPHYS_PAGES")
        if available is not None:
            notes.append("available memory is free pages from sysconf (page cache not counted)")
    if headroom is not None and available is not None and headroom < available:
        available = headroom
        notes.append("available memory is limited by the process's memory cgroup")

    optional = {}
    for dist, module in OPTIONAL_PACKAGES:
        installed = _module_found(module)
        version = _dist_version(dist)
        if installed and version is None:
            version = "unknown (no package metadata)"
        optional[dist] = {"module": module, "installed": installed,
                          "version": version if installed else None}

    python310 = "not found"
    has_lava = None
    for source, path, problem, lava in _python310_candidates():
        if problem is None:
            python310, has_lava = path, lava
            break
        if path is not None or source.startswith(PYTHON310_ENV):
            notes.append(f"{source}: {path} {problem}" if path else f"{source}: {problem}")

    info: dict[str, Any] = {
        "memr_snn_version": _dist_version("memr_snn", "memr-snn") or NOT_INSTALLED,
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_executable": sys.executable or None,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu_count_usable": usable,
        "memory_total_bytes": total_memory_bytes(),
        "memory_available_bytes": available,
        "memory_limit_bytes": limit,
        "packages": {name: _dist_version(name) for name in CORE_PACKAGES},
        **_numba_info(),
        "optional": optional,
        "lava_python310": python310,
        "lava_python310_has_lava": has_lava,
        "notes": notes,
    }
    return info


def _gib(value: int | None) -> str:
    return "unknown" if value is None else f"{value / 2**30:.1f} GiB"


def format_info(info: dict[str, Any]) -> str:
    """Human-readable text for a :func:`collect_info` dictionary.

    Parameters
    ----------
    info : dict
        As returned by :func:`collect_info`.  Missing keys print as ``unknown``,
        so a report saved by another version still formats.

    Returns
    -------
    str
        Several aligned lines, without a trailing newline.
    """
    def get(key: str) -> Any:
        value = info.get(key)
        return "unknown" if value is None else value

    cpus = f"{get('cpu_count')}"
    if info.get("cpu_count_usable") not in (None, info.get("cpu_count")):
        cpus += f" ({info['cpu_count_usable']} usable by this process)"
    memory = (f"{_gib(info.get('memory_total_bytes'))} total, "
              f"{_gib(info.get('memory_available_bytes'))} available")
    if info.get("memory_limit_bytes") is not None:
        memory += f", cgroup limit {_gib(info['memory_limit_bytes'])}"
    threads = f"{get('numba_num_threads')}"
    threads += (" (from NUMBA_NUM_THREADS)" if info.get("numba_num_threads_env")
                else " (default: one per CPU)")
    lava = f"{get('lava_python310')}"
    if info.get("lava_python310_has_lava") is not None:
        lava += (" (lava-nc installed there)" if info["lava_python310_has_lava"]
                 else " (lava-nc not installed there)")

    rows: list[tuple[str, str]] = [
        ("memr_snn", f"{get('memr_snn_version')}"),
        ("Python", (f"{get('python_version')} ({get('python_implementation')}) "
                    f"{get('python_executable')}")),
        ("Platform", f"{get('platform')}"),
        ("CPUs", cpus),
        ("Memory", memory),
    ]
    lines = [f"{label:<24}{value}" for label, value in rows]
    lines.append("Core packages")
    for name, version in (info.get("packages") or {}).items():
        lines.append(f"  {name:<22}{version or 'not installed'}")
    lines.append("Numba")
    lines.append(f"  {'threading layer':<22}{get('numba_threading_layer')} "
                 f"(requested: {get('numba_threading_layer_requested')})")
    lines.append(f"  {'threads':<22}{threads}")
    lines.append(f"  {'cache dir':<22}{get('numba_cache_dir')}")
    lines.append("Optional packages")
    for dist, entry in (info.get("optional") or {}).items():
        status = entry.get("version") if entry.get("installed") else "not installed"
        lines.append(f"  {dist:<22}{status}")
    lines.append(f"{'Python 3.10 for Lava':<24}{lava}")
    if info.get("notes"):
        lines.append("Notes")
        lines.extend(f"  - {note}" for note in info["notes"])
    return "\n".join(lines)
