"""The ``memr-snn`` command line fails early, in one line, with a documented exit status.

Each test reproduces one failure found on main: an unusable ``--out`` / ``--save-state``
(refused before anything is built or simulated), deeply nested JSON, a built-in network
too large for the memory, a :class:`StateMonitor` too large for the memory, an I-V sweep
that diverges to NaN, and tracebacks shown without ``--debug``.  Most tests call
:func:`memr_snn.cli.main` in-process (no crash is possible on these paths); the traceback
and Ctrl-C tests run the real command in a child interpreter.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from memr_snn import cli
from memr_snn.cli import check_output_path, main
from memr_snn.info import available_memory_bytes

HUGE_N = 10**12  # ~30 TB of synapses: larger than any machine's memory


def _one_error_line(err: str) -> str:
    """The stderr of a failed command: exactly one line ``memr-snn: error: ...``, no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("memr-snn: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def no_work(monkeypatch):
    """Record any build of a built-in network or any simulation; a refusal must come before both."""
    from memr_snn import Network, networks

    calls: list[str] = []

    def spy(name):
        def refuse(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} was called: the refusal came too late")
        return refuse

    monkeypatch.setattr(Network, "run", spy("Network.run"))
    monkeypatch.setattr(Network, "run_steps", spy("Network.run_steps"))
    for name in list(networks.BUILTIN):
        monkeypatch.setitem(networks.BUILTIN, name, spy(f"build {name}"))
    return calls


# ------------------------------------------------------------------------------------------------ output paths
def _writers(out: str) -> dict[str, list[str]]:
    """Every subcommand that writes, with ``out`` as its output path."""
    return {
        "run": ["run", "cuba", "--n", "100", "--duration", "0.01", "--out", out],
        "map": ["map", "--profile", "loihi1", "--network", "cuba", "--n-neurons", "100", "--out", out],
        "export": ["export", "--to", "nir", "--network", "cuba", "--n", "100", "--out", out],
        "devices iv": ["devices", "iv", "vteam", "--freq", "1000", "--out", out],
        "bench": ["bench", "--quick", "--peers", "none", "--out", out],
        "bench task": ["bench", "digits", "--quick", "--out", out],
        "experiment": ["experiment", "sma", "--duration", "0.1", "--out", out],
    }


COMMANDS = list(_writers("x"))


def _assert_refused(argv, capsys, calls, *, mentions: str) -> str:
    t0 = time.perf_counter()
    rc = main(argv)
    took = time.perf_counter() - t0
    line = _one_error_line(capsys.readouterr().err)
    assert rc == 2, line
    assert mentions in line, line
    assert calls == [], calls
    assert took < 5.0, f"refusal took {took:.1f} s"
    return line


@pytest.mark.parametrize("command", COMMANDS)
def test_out_is_an_existing_file_or_under_one(command, tmp_path, capsys, no_work):
    """A file where a folder is expected (or a folder path below a file) is refused before any work."""
    blocker = tmp_path / "a_file"
    blocker.write_text("keep me")
    target = blocker if command not in ("export", "devices iv") else blocker / "x.out"
    _assert_refused(_writers(str(target))[command], capsys, no_work, mentions=f"--out {target}")
    assert blocker.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


@pytest.mark.parametrize("command", ["export", "devices iv"])
def test_out_file_with_missing_parent(command, tmp_path, capsys, no_work):
    target = tmp_path / "no_such_folder" / "x.out"
    line = _assert_refused(_writers(str(target))[command], capsys, no_work, mentions="does not exist")
    assert "--out" in line and not target.parent.exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("command", ["run", "map", "export", "devices iv"])
def test_out_is_a_fifo(command, tmp_path, capsys, no_work):
    """A FIFO would block the write (or fail) only at the end of the run."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    _assert_refused(_writers(str(fifo))[command], capsys, no_work, mentions="FIFO")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc (a folder nobody, not even root, "
                                                             "can create files in)")
@pytest.mark.parametrize("command", ["run", "devices iv"])
def test_out_in_an_unwritable_location(command, capsys, no_work):
    """Writability is probed by a real write, so it holds as root (tests run as root; chmod does not bind it)."""
    target = "/proc/memr_snn_no_such_entry/out" if command == "run" else "/proc/self/memr_snn_iv.png"
    _assert_refused(_writers(target)[command], capsys, no_work, mentions="cannot write in folder")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes into a chmod 0o500 folder anyway; the /proc test covers root")
def test_out_in_a_read_only_folder(tmp_path, capsys, no_work):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        _assert_refused(_writers(str(ro / "out"))["run"], capsys, no_work, mentions="cannot write in folder")
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize("bad", ["missing_parent", "folder", "fifo"])
def test_save_state_refused_before_the_simulation(bad, tmp_path, capsys, no_work):
    """On main the run simulated first and then failed to write the state: the work was lost."""
    if bad == "fifo" and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    state = {"missing_parent": tmp_path / "nope" / "s.msnn", "folder": tmp_path, "fifo": tmp_path / "f"}[bad]
    if bad == "fifo":
        os.mkfifo(state)
    out = tmp_path / "results"
    argv = ["run", "cuba", "--n", "100", "--duration", "0.5", "--out", str(out), "--save-state", str(state)]
    _assert_refused(argv, capsys, no_work, mentions=f"--save-state {state}")
    assert not out.exists()


def test_save_state_inside_the_new_out_folder_is_accepted(tmp_path, capsys, no_work):
    """The README's 'run cuba --out a/ --save-state a/net.msnn': a/ is created by the run itself."""
    out = tmp_path / "a"
    rc = main(["run", "cuba", "--n", "100", "--out", str(out), "--save-state", str(out / "net.msnn")])
    assert rc == 1 and "build cuba was called" in _one_error_line(capsys.readouterr().err)  # got past the checks
    assert no_work == ["build cuba"]


def test_run_out_folder_holding_a_folder_where_a_file_goes(tmp_path, capsys, no_work):
    (tmp_path / "summary.json").mkdir()
    _assert_refused(["run", "cuba", "--n", "100", "--out", str(tmp_path)], capsys, no_work, mentions="summary.json")


def test_check_output_path_accepts_usable_paths_and_leaves_nothing(tmp_path):
    new_dir = tmp_path / "a" / "b"
    assert check_output_path(new_dir, "dir") == new_dir
    (tmp_path / "old.png").write_text("x")
    assert check_output_path(tmp_path / "old.png", "file") == tmp_path / "old.png"
    assert check_output_path(tmp_path / "new.png", "file") == tmp_path / "new.png"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.png"]  # the write probe is removed
    with pytest.raises(ValueError, match="empty"):
        check_output_path("", "dir")


# ------------------------------------------------------------------------------------------------ memory
needs_meminfo = pytest.mark.skipif(available_memory_bytes() is None, reason="available memory unknown here")


@needs_meminfo
@pytest.mark.parametrize("argv, option", [
    (["run", "cuba", "--n", str(HUGE_N)], "--n"),
    (["run", "coba", "--n", str(HUGE_N)], "--n"),
    (["map", "--profile", "loihi1", "--network", "alif", "--n-neurons", str(HUGE_N)], "--n-neurons"),
    (["export", "--to", "nir", "--network", "cuba", "--n", str(HUGE_N)], "--n"),
    (["bench", "--peers", "none", "--sizes", str(HUGE_N)], "--sizes"),
])
def test_huge_builtin_network_refused_from_its_parameters(argv, option, tmp_path, capsys, no_work):
    """``memr-snn run cuba --n 10000000`` allocated gigabytes before the old check refused it."""
    out = tmp_path / ("out.nir" if argv[0] == "export" else "out")
    t0 = time.perf_counter()
    rc = main(argv + ["--out", str(out)])
    line = _one_error_line(capsys.readouterr().err)
    assert rc == 1, line
    assert f"{option} {HUGE_N}" in line and "GiB" in line and "available" in line, line
    assert no_work == [] and time.perf_counter() - t0 < 5.0
    assert not out.exists()


def test_builtin_size_below_minimum(tmp_path, capsys, no_work):
    assert main(["run", "cuba", "--n", "3", "--out", str(tmp_path / "o")]) == 2
    assert "--n must be >= 5" in _one_error_line(capsys.readouterr().err)


@needs_meminfo
def test_huge_builtin_network_refused_by_the_builder_itself():
    """The library entry (used by benchmarks and scripts) refuses before allocating as well."""
    import tracemalloc

    from memr_snn.networks import coba

    tracemalloc.start()
    try:
        with pytest.raises(MemoryError, match=r"n = 1000000000000 neurons needs about .* GiB.*nothing was allocated"):
            coba(n=HUGE_N)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, f"{peak / 2**20:.0f} MiB allocated before the refusal"


def test_builtin_memory_estimate_scales_with_n():
    from memr_snn.networks.vogels_abbott import estimate_memory

    small, big = estimate_memory(4000), estimate_memory(400_000)
    assert 1 * 2**20 < small < 100 * 2**20
    assert 90 < big / small < 110  # linear in n (80 synapses per neuron at any size)


@needs_meminfo
def test_huge_state_monitor_refused_before_the_run(monkeypatch):
    from memr_snn import LIFParams, Network, Population, StateMonitor
    from memr_snn.engine.simulator import Simulator

    def started(*args, **kwargs):  # without the estimate the run would fill the memory: fail fast instead
        raise AssertionError("the simulation started")

    monkeypatch.setattr(Simulator, "run_steps", started)

    net = Network(dt=1e-4, seed=1)
    pop = net.add(Population(1000, LIFParams(), name="p"))
    mon = net.add(StateMonitor(pop, ["v", "i_e"], name="trace"))
    avail = available_memory_bytes()
    seconds = 10 * avail / (1000 * 2 * 8) * 1e-4  # ten times what fits
    seconds = float(np.ceil(seconds))
    t0 = time.perf_counter()
    with pytest.raises(MemoryError) as info:
        net.run(seconds)
    msg = str(info.value)
    assert "StateMonitor trace" in msg and "2 variable(s) x 1000 neurons" in msg and "GiB" in msg, msg
    assert "nothing was simulated" in msg and "duration must be <=" in msg
    assert net.step == 0 and net._sim is None and mon.t.size == 0
    assert time.perf_counter() - t0 < 5.0


def test_state_monitor_estimate_counts_samples():
    from memr_snn import LIFParams, Network, Population, StateMonitor

    net = Network(dt=1e-4, seed=1)
    pop = net.add(Population(50, LIFParams(), name="p"))
    mon = net.add(StateMonitor(pop, ["v"], indices=[1, 2, 3], interval=1e-3))  # every 10 steps
    assert mon.every == 10
    assert mon.n_samples(100) == 10 and mon.n_samples(100, start_step=5) == 10 and mon.n_samples(0) == 0
    assert mon.estimate_bytes(1000) == 100 * (3 + 1) * 8


# ------------------------------------------------------------------------------------------------ I-V
def test_iv_divergence_fails_instead_of_printing_nan(tmp_path, capsys):
    out = tmp_path / "iv.png"
    rc = main(["devices", "iv", "vteam", "--amplitude", "1e200", "--freq", "1000", "--out", str(out)])
    cap = capsys.readouterr()
    line = _one_error_line(cap.err)
    assert rc == 1, line
    assert "diverged" in line and "--amplitude 1e+200" in line, line
    assert "nan" not in cap.out.lower()
    assert not out.exists()


@pytest.mark.parametrize("flag, value", [("--amplitude", "inf"), ("--freq", "-1"), ("--freq", "nan")])
def test_iv_bad_drive_refused_before_the_table(flag, value, tmp_path, capsys):
    rc = main(["devices", "iv", "strukov", flag, value, "--out", str(tmp_path / "iv.png")])
    cap = capsys.readouterr()
    assert rc == 2 and flag in _one_error_line(cap.err)
    assert cap.out == ""


# ------------------------------------------------------------------------------------------------ one-line errors
def _deep_json(path: Path, depth: int = 100_000) -> Path:
    path.write_text('{"a": ' * depth + "1" + "}" * depth)
    return path


@pytest.mark.parametrize("argv", [["devices", "show", "{deep}"], ["map", "--profile", "{deep}", "--out", "{out}"]])
def test_deep_json_is_a_one_line_error(argv, tmp_path, capsys):
    deep = _deep_json(tmp_path / "deep.json")
    argv = [a.format(deep=deep, out=tmp_path / "m") for a in argv]
    rc = main(argv)
    line = _one_error_line(capsys.readouterr().err)
    assert rc in (1, 2), line
    assert not (tmp_path / "m").exists()


def _numba_error() -> Exception:
    from numba.core.errors import TypingError

    return TypingError("Failed in nopython mode pipeline (step: nopython frontend)\nNo implementation of function\n"
                       "During: typing of call at kernel.py (12)")


@pytest.mark.parametrize("exc, rc, text", [
    (KeyboardInterrupt(), 130, "memr-snn: error: interrupted"),
    (OSError(errno.ENOSPC, "No space left on device", "spikes.npz"), 1, "No space left on device: spikes.npz"),
    (MemoryError(), 1, "out of memory"),
    (RecursionError("maximum recursion depth exceeded"), 1, "nested too deeply"),
    (FloatingPointError("overflow in the kernel"), 1, "overflow in the kernel"),
    (np.linalg.LinAlgError("Singular matrix"), 1, "LinAlgError: Singular matrix"),
    ("numba", 1, "TypingError: Failed in nopython mode pipeline"),
    (ValueError("--x must be > 0, got -1\nsecond line"), 2, "--x must be > 0, got -1 second line"),
])
def test_every_failure_is_one_line_with_its_exit_status(exc, rc, text, monkeypatch, capsys):
    exc = _numba_error() if exc == "numba" else exc

    def fail(args):
        raise exc

    monkeypatch.setattr(cli, "_cmd_info", fail)
    assert main(["info"]) == rc
    assert text in _one_error_line(capsys.readouterr().err)
    with pytest.raises(type(exc)):
        main(["--debug", "info"])


def test_help_documents_debug_and_exit_status():
    text = cli.build_parser().format_help()
    assert "--debug" in text and "exit status" in text and "130" in text


def _cli(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "memr_snn", *argv], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_traceback_only_with_debug(tmp_path):
    deep = str(_deep_json(tmp_path / "deep.json"))
    plain = _cli("devices", "show", deep)
    assert plain.returncode in (1, 2)
    _one_error_line(plain.stderr)
    debug = _cli("--debug", "devices", "show", deep)
    assert debug.returncode != 0 and "Traceback (most recent call last)" in debug.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_is_one_line_and_exit_130():
    code = ("import signal, sys, time\n"
            "signal.signal(signal.SIGINT, signal.default_int_handler)\n"  # a background parent may ignore SIGINT
            "from memr_snn import cli\n"
            "def slow(args):\n"
            "    print('ready', flush=True)\n"
            "    time.sleep(60)\n"
            "cli._cmd_info = slow\n"
            "sys.exit(cli.main(['info']))\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert _one_error_line(err) == "memr-snn: error: interrupted"
