"""Tests for memr_snn.info: environment report, memory queries, Python 3.10 lookup."""

import importlib.metadata
import json
import sys
from pathlib import Path

import pytest

import memr_snn.info as info_module
from memr_snn.info import (
    PYTHON310_ENV,
    available_memory_bytes,
    collect_info,
    find_python310,
    format_info,
    total_memory_bytes,
)

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="uses shell-script executables")
GiB = 2**30


@pytest.fixture
def no_python310(monkeypatch, tmp_path):
    """An empty PATH and no MEMR_SNN_PYTHON310: no interpreter can be found."""
    empty = tmp_path / "empty_bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv(PYTHON310_ENV, raising=False)
    return empty


def fake_python(folder: Path, name: str, version: str, has_lava: bool = False,
                exit_code: int = 0) -> Path:
    """A shell script that answers the probe like an interpreter of ``version`` would."""
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\necho {version}\necho {int(has_lava)}\nexit {exit_code}\n")
    path.chmod(0o755)
    return path


# ------------------------------------------------------------------ collect / format


def test_collect_info_has_every_field_and_is_json(no_python310):
    info = collect_info()
    expected = {"memr_snn_version", "python_version", "python_implementation",
                "python_executable", "platform", "cpu_count", "cpu_count_usable",
                "memory_total_bytes", "memory_available_bytes", "memory_limit_bytes",
                "packages", "numba_threading_layer", "numba_threading_layer_requested",
                "numba_num_threads", "numba_num_threads_env", "numba_cache_dir", "optional",
                "lava_python310", "lava_python310_has_lava", "notes"}
    assert set(info) == expected
    assert json.loads(json.dumps(info)) == info
    assert info["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert info["python_executable"] == sys.executable
    assert set(info["packages"]) == {"numpy", "numba", "scipy", "matplotlib", "tqdm"}
    import numpy

    assert info["packages"]["numpy"] == numpy.__version__
    assert set(info["optional"]) == {"brian2", "nest-simulator", "lava-nc", "nir", "psutil",
                                     "hypothesis", "pytest"}
    assert info["optional"]["nest-simulator"]["module"] == "nest"
    assert info["optional"]["pytest"] == {"module": "pytest", "installed": True,
                                          "version": pytest.__version__}
    assert info["lava_python310"] == "not found"
    assert isinstance(info["numba_num_threads"], int) and info["numba_num_threads"] >= 1
    assert isinstance(info["numba_threading_layer"], str)
    if info["cpu_count"] is not None and info["cpu_count_usable"] is not None:
        assert 1 <= info["cpu_count_usable"] <= info["cpu_count"]


def test_format_info_mentions_everything(no_python310):
    info = collect_info()
    text = format_info(info)
    for needle in ["memr_snn", "Python", "Platform", "CPUs", "Memory", "numpy", "numba",
                   "scipy", "matplotlib", "tqdm", "threading layer", "cache dir", "brian2",
                   "nest-simulator", "lava-nc", "nir", "psutil", "hypothesis", "pytest",
                   "Python 3.10 for Lava", "not found", info["python_version"]]:
        assert needle in text
    assert not text.endswith("\n")


def test_format_info_tolerates_missing_keys():
    text = format_info({})
    assert "unknown" in text
    assert "Python 3.10 for Lava" in text


def test_format_info_details():
    text = format_info({"memory_total_bytes": 16 * GiB, "memory_available_bytes": 3 * GiB,
                        "memory_limit_bytes": 4 * GiB, "cpu_count": 8, "cpu_count_usable": 2,
                        "numba_num_threads": 2, "numba_num_threads_env": "2",
                        "packages": {"numpy": "2.0", "scipy": None},
                        "optional": {"nir": {"module": "nir", "installed": False,
                                             "version": None}},
                        "lava_python310": "/opt/py310/bin/python",
                        "lava_python310_has_lava": False, "notes": ["a note"]})
    assert "16.0 GiB total, 3.0 GiB available, cgroup limit 4.0 GiB" in text
    assert "8 (2 usable by this process)" in text
    assert "2 (from NUMBA_NUM_THREADS)" in text
    assert "scipy" in text and "not installed" in text
    assert "/opt/py310/bin/python (lava-nc not installed there)" in text
    assert "  - a note" in text


def test_version_falls_back_when_not_installed(monkeypatch, no_python310):
    real = importlib.metadata.version

    def version(name):
        if name.replace("-", "_") == "memr_snn":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    assert collect_info()["memr_snn_version"] == "unknown (not installed)"


def test_version_reported_when_installed(monkeypatch, no_python310):
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "9.8.7" if name == "memr_snn" else real(name))
    assert collect_info()["memr_snn_version"] == "9.8.7"


def test_optional_packages_are_detected_without_importing_them(monkeypatch, tmp_path,
                                                               no_python310):
    (tmp_path / "memr_snn_probe_boom.py").write_text("raise RuntimeError('imported!')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(info_module, "OPTIONAL_PACKAGES",
                        (("memr-snn-probe-boom", "memr_snn_probe_boom"),
                         ("no-such-dist-xyz", "no_such_module_xyz")))
    optional = collect_info()["optional"]
    assert optional["memr-snn-probe-boom"] == {"module": "memr_snn_probe_boom",
                                               "installed": True,
                                               "version": "unknown (no package metadata)"}
    assert optional["no-such-dist-xyz"] == {"module": "no_such_module_xyz",
                                            "installed": False, "version": None}
    assert "memr_snn_probe_boom" not in sys.modules


def test_numba_settings_from_environment(monkeypatch, no_python310):
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/some/cache")
    monkeypatch.setenv("NUMBA_NUM_THREADS", "3")
    info = collect_info()
    assert info["numba_cache_dir"] == "/some/cache"
    assert info["numba_num_threads_env"] == "3"
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.delenv("NUMBA_NUM_THREADS")
    info = collect_info()
    assert info["numba_cache_dir"].startswith("default")
    assert info["numba_num_threads_env"] is None


# ------------------------------------------------------------------ memory


MEMINFO = """MemTotal:       16384000 kB
MemFree:         1000000 kB
MemAvailable:    8192000 kB
HugePages_Total:       0
"""


def test_read_meminfo(tmp_path):
    path = tmp_path / "meminfo"
    path.write_text(MEMINFO)
    fields = info_module._read_meminfo(path)
    assert fields["MemTotal"] == 16384000 * 1024
    assert fields["MemAvailable"] == 8192000 * 1024
    assert fields["HugePages_Total"] == 0
    assert info_module._read_meminfo(tmp_path / "missing") == {}


def test_available_memory_uses_memavailable_and_cgroup(monkeypatch):
    monkeypatch.setattr(info_module, "_read_meminfo", lambda: {"MemAvailable": 8 * GiB})
    monkeypatch.setattr(info_module, "_cgroup_memory", lambda: (None, None))
    assert available_memory_bytes() == 8 * GiB
    monkeypatch.setattr(info_module, "_cgroup_memory", lambda: (4 * GiB, 3 * GiB))
    assert available_memory_bytes() == 3 * GiB
    monkeypatch.setattr(info_module, "_cgroup_memory", lambda: (64 * GiB, 60 * GiB))
    assert available_memory_bytes() == 8 * GiB


def test_available_memory_is_none_without_meminfo(monkeypatch):
    monkeypatch.setattr(info_module, "_read_meminfo", lambda: {})
    assert available_memory_bytes() is None


def test_total_memory_falls_back_to_sysconf(monkeypatch):
    monkeypatch.setattr(info_module, "_read_meminfo", lambda: {})
    total = total_memory_bytes()
    assert total is None or total > 0
    monkeypatch.setattr(info_module, "_read_meminfo", lambda: {"MemTotal": 5})
    assert total_memory_bytes() == 5


@pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="needs /proc/meminfo")
def test_real_memory_values_are_plausible():
    available = available_memory_bytes()
    total = total_memory_bytes()
    assert available is not None and total is not None
    assert 0 <= available <= total


def write_tree(root: Path, files: dict) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_cgroup_v1_limit(tmp_path):
    proc = tmp_path / "cgroup"
    proc.write_text("4:memory:/job/42\n0::/\n")
    write_tree(tmp_path / "fs", {
        "memory/job/42/memory.limit_in_bytes": f"{4 * GiB}\n",
        "memory/job/42/memory.usage_in_bytes": f"{3 * GiB}\n",
        "memory/job/42/memory.stat": f"hierarchical_memory_limit {2 * GiB}\n"
                                     f"total_inactive_file {GiB // 2}\n",
    })
    limit, headroom = info_module._cgroup_memory(proc, tmp_path / "fs")
    assert limit == 2 * GiB  # the hierarchical (ancestor) limit is tighter
    assert headroom == 0  # usage is above the hierarchical limit: clamped, not negative


def test_cgroup_v1_unlimited_and_namespaced(tmp_path):
    proc = tmp_path / "cgroup"
    proc.write_text("4:memory:/docker/abc\n")
    write_tree(tmp_path / "fs", {  # namespaced: our cgroup is the mount's root
        "memory/memory.limit_in_bytes": "9223372036854771712\n",
        "memory/memory.usage_in_bytes": f"{GiB}\n",
        "memory/memory.stat": "total_inactive_file 0\n",
    })
    assert info_module._cgroup_memory(proc, tmp_path / "fs") == (None, None)
    (tmp_path / "fs/memory/memory.limit_in_bytes").write_text(f"{2 * GiB}\n")
    assert info_module._cgroup_memory(proc, tmp_path / "fs") == (2 * GiB, GiB)


def test_cgroup_v2_tightest_ancestor(tmp_path):
    proc = tmp_path / "cgroup"
    proc.write_text("0::/user.slice/job\n")
    write_tree(tmp_path / "fs", {
        "cgroup.controllers": "cpu memory\n",
        "user.slice/memory.max": f"{3 * GiB}\n",
        "user.slice/memory.current": f"{2 * GiB}\n",
        "user.slice/memory.stat": f"anon 1\ninactive_file {GiB // 4}\n",
        "user.slice/job/memory.max": "max\n",
        "user.slice/job/memory.current": f"{GiB}\n",
    })
    limit, headroom = info_module._cgroup_memory(proc, tmp_path / "fs")
    assert limit == 3 * GiB
    assert headroom == GiB + GiB // 4


def test_cgroup_missing_or_garbage(tmp_path):
    assert info_module._cgroup_memory(tmp_path / "nope", tmp_path) == (None, None)
    proc = tmp_path / "cgroup"
    proc.write_text("garbage\n\x00\n0::/x\n")
    assert info_module._cgroup_memory(proc, tmp_path / "fs") == (None, None)
    write_tree(tmp_path / "fs", {"cgroup.controllers": "", "x/memory.max": "junk"})
    assert info_module._cgroup_memory(proc, tmp_path / "fs") == (None, None)


# ------------------------------------------------------------------ Python 3.10


@posix_only
def test_python310_found_on_path(monkeypatch, no_python310):
    exe = fake_python(no_python310, "python3.10", "3.10", has_lava=True)
    assert find_python310() == str(exe)
    info = collect_info()
    assert info["lava_python310"] == str(exe)
    assert info["lava_python310_has_lava"] is True


@posix_only
def test_env_var_wins_over_path(monkeypatch, no_python310, tmp_path):
    fake_python(no_python310, "python3.10", "3.10")
    chosen = fake_python(tmp_path / "venv", "python", "3.10")
    monkeypatch.setenv(PYTHON310_ENV, str(chosen))
    assert find_python310() == str(chosen)


@posix_only
def test_bad_env_var_is_noted_and_path_is_used(monkeypatch, no_python310, tmp_path):
    on_path = fake_python(no_python310, "python3.10", "3.10")
    wrong = fake_python(tmp_path / "other", "python", "3.12")
    monkeypatch.setenv(PYTHON310_ENV, str(wrong))
    assert find_python310() == str(on_path)
    info = collect_info()
    assert info["lava_python310"] == str(on_path)
    assert any("is Python 3.12, not 3.10" in note for note in info["notes"])

    monkeypatch.setenv(PYTHON310_ENV, str(tmp_path / "does-not-exist"))
    info = collect_info()
    assert info["lava_python310"] == str(on_path)
    assert any("not found or not executable" in note for note in info["notes"])


@posix_only
def test_broken_shim_is_not_reported_as_found(no_python310):
    fake_python(no_python310, "python3.10", "", exit_code=127)
    assert find_python310() is None
    info = collect_info()
    assert info["lava_python310"] == "not found"
    assert any("does not run" in note for note in info["notes"])


def test_nothing_found(no_python310):
    assert find_python310() is None
    info = collect_info()
    assert info["lava_python310"] == "not found"
    assert info["lava_python310_has_lava"] is None
    assert not any("3.10" in note for note in info["notes"])
