"""Checkpoint reliability: crafted files are refused (never a crash), saving never destroys a good file.

(a) crafted checkpoints: one field of a valid, event-mode checkpoint is rewritten (with a valid
    checksum) and loading must refuse it with a CheckpointError naming the field; the crash-prone
    ones also run in a child process, through the API and through the CLI;
(b) a fuzzer mutates arrays and meta of a valid checkpoint: every file either loads and runs to a
    finite state or is refused with CheckpointError, in a child process so a segfault is seen;
(c) atomic writes refuse FIFOs, devices and directories before opening anything; symlinks are
    replaced, never followed;
(d) saving a state that loading would refuse raises and leaves the good file untouched;
(e) a saver killed with SIGKILL leaves the old file intact, and the next save removes the stale
    temporary files of the dead writer (never a live writer's).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memr_snn.io import CheckpointError, read_container, write_container
from memr_snn.io.atomic import NotARegularFileError, atomic_write, stale_temporaries
from memr_snn.io.checkpoint import load_network, save_network
from memr_snn.io.validate import CheckpointStateError
from reliability import ckpt_cases as C
from reliability.harness import assert_no_crash, fuzz_examples, run_isolated

TESTS = str(Path(__file__).resolve().parents[1])
CHILD_ENV = {"PYTHONPATH": TESTS + os.pathsep + os.environ.get("PYTHONPATH", ""), "OPENBLAS_NUM_THREADS": "1"}


#: a format-1 checkpoint (engine kernel arrays) of ``C.saved()``, written by memr_snn before format 2
V1_FILE = Path(TESTS) / "io" / "data" / "v1_reliability_event.msnn"


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> tuple[Path, dict, dict]:
    path = C.saved(tmp_path_factory.mktemp("good") / "good.msnn")
    meta, arrays = read_container(path)
    assert meta["version"] == 2
    assert meta["simulator"]["mode"] == "event" and meta["simulator"]["step"] > 0
    assert arrays["events/active_pop"].size > 0 and int(arrays["events/input_count"].sum()) > 0  # lists in use
    return path, meta, arrays


@pytest.fixture(scope="module")
def good_v1() -> tuple[Path, dict, dict]:
    meta, arrays = read_container(V1_FILE)
    assert meta["version"] == 1
    assert int(arrays["sim/act_n"][0]) > 0 and int(arrays["sim/tcount"].sum()) > 0  # event lists in use
    return V1_FILE, meta, arrays


def _copy(meta, arrays):
    return json.loads(json.dumps(meta)), {k: v.copy() for k, v in arrays.items()}


def _busy_slot(arrays) -> int:
    return int(np.argmax(arrays["sim/tcount"]))


def _pop(meta, name):
    return next(k for k, e in enumerate(meta["populations"]) if e["name"] == name)


def _proj(meta, name):
    return next(k for k, e in enumerate(meta["projections"]) if e["name"] == name)


def _mon(meta, name):
    return next(k for k, e in enumerate(meta["monitors"]) if e["name"] == name)


def _set(name, index, value):
    def edit(meta, arrays):
        arrays[name][index] = value
    return edit


def _meta_sim(key, value):
    def edit(meta, arrays):
        meta["simulator"][key] = value
    return edit


def _replace(name, fn):
    def edit(meta, arrays):
        arrays[name] = fn(arrays[name])
    return edit


def _touched_oob(meta, arrays):
    arrays["sim/touched"][_busy_slot(arrays), 0] = 10**7


def _touched_count(meta, arrays):
    arrays["sim/tcount"][_busy_slot(arrays)] = 10**6


def _dup_act(meta, arrays):
    arrays["sim/act_list"][1] = arrays["sim/act_list"][0]


def _inactive_listed(meta, arrays):
    arrays["sim/active"][arrays["sim/act_list"][0]] = 0


def _pq_past(meta, arrays):
    arrays["sim/pq_dirty"][0] = 0
    arrays["sim/pq_next"][0] = meta["simulator"]["step"] - 5


def _busy_ahead(arrays) -> tuple[int, int]:
    """(steps ahead, position of its first entry in events/input_*) of the fullest pending list."""
    counts = arrays["events/input_count"]
    d = int(np.argmax(counts))
    return d, int(counts[:d].sum())


def _input_index_oob(meta, arrays):
    arrays["events/input_index"][_busy_ahead(arrays)[1]] = 10**7


def _input_pop_source(meta, arrays):
    arrays["events/input_pop"][_busy_ahead(arrays)[1]] = _pop(meta, "inp")


def _input_count_huge(meta, arrays):
    arrays["events/input_count"][_busy_ahead(arrays)[0]] = 10**6


def _input_duplicate(meta, arrays):
    d, first = _busy_ahead(arrays)
    assert arrays["events/input_count"][d] >= 2
    for f in ("pop", "index"):
        arrays[f"events/input_{f}"][first + 1] = arrays[f"events/input_{f}"][first]


def _active_duplicate(meta, arrays):
    for f in ("pop", "index"):
        arrays[f"events/active_{f}"][1] = arrays[f"events/active_{f}"][0]


def _active_truncated(meta, arrays):
    arrays["events/active_index"] = arrays["events/active_index"][:-1]


def _input_unlisted(meta, arrays):
    """Input pending for a neuron that no list names (it would never be delivered)."""
    d, first = _busy_ahead(arrays)
    k = int(arrays["events/input_pop"][first])
    listed = arrays["events/input_index"][first:first + int(arrays["events/input_count"][d])]
    free = next(j for j in range(meta["populations"][k]["n"]) if j not in listed)
    arrays[f"pop/{k}/state/input"][d, 0, free] = 1e-9


def _named_pq_past(meta, arrays):
    key = f"pop/{_pop(meta, 'inp')}/state"
    arrays[f"{key}/redraw"][0] = 0
    arrays[f"{key}/next_spike"][0] = meta["simulator"]["step"] - 5


def _named(owner, name, field, index, value):
    def edit(meta, arrays):
        k = _pop(meta, name) if owner == "pop" else _proj(meta, name)
        arrays[f"{owner}/{k}/state/{field}"][index] = value
    return edit


def _named_replace(owner, name, field, fn):
    def edit(meta, arrays):
        k = _pop(meta, name) if owner == "pop" else _proj(meta, name)
        key = f"{owner}/{k}/state/{field}"
        new = fn(arrays.pop(key))
        if new is not None:
            arrays[key] = new
    return edit


def _proj_arr(proj, field, fn):
    def edit(meta, arrays):
        key = f"proj/{_proj(meta, proj)}/{field}"
        arrays[key] = fn(arrays[key])
    return edit


def _proj_meta(proj, field, value):
    def edit(meta, arrays):
        meta["projections"][_proj(meta, proj)][field] = value
    return edit


def _pop_arr(pop, field, fn):
    def edit(meta, arrays):
        key = f"pop/{_pop(meta, pop)}/{field}"
        arrays[key] = fn(arrays[key])
    return edit


def _mon_arr(mon, field, fn):
    def edit(meta, arrays):
        key = f"mon/{_mon(meta, mon)}/{field}"
        arrays[key] = fn(arrays[key])
    return edit


def _xb_state(field, value):
    def edit(meta, arrays):
        meta["projections"][_proj(meta, "inp_b_xb")]["crossbar"]["state"][field] = value
    return edit


def _with(arr, index, value):
    arr = arr.copy()
    arr[index] = value
    return arr


# Format-1 files (engine kernel arrays): (id, edit, text the error must contain); the first group
# would crash or corrupt memory unchecked
CRASHY_V1 = [
    ("act_n_huge", _set("sim/act_n", 0, 10**6), "sim/act_n"),
    ("act_list_oob", _set("sim/act_list", 0, 10**9), "sim/act_list"),
    ("tcount_huge", _touched_count, "sim/tcount"),
    ("touched_oob", _touched_oob, "sim/touched"),
    ("sq_cursor_negative", _set("sim/sq_cursor", 0, -10**6), "sim/sq_cursor"),
]
REFUSED_V1 = CRASHY_V1 + [
    ("act_n_negative", _set("sim/act_n", 0, -1), "sim/act_n"),
    ("act_list_duplicate", _dup_act, "sim/act_list"),
    ("active_not_listed", _inactive_listed, "sim/active"),
    ("active_two", _set("sim/active", 0, 2), "sim/active"),
    ("pending_flag", _set("sim/pending", (0, 0), 7), "sim/pending"),
    ("sq_cursor_ahead", _set("sim/sq_cursor", 0, 3), "sim/sq_cursor"),
    ("v_nan", _set("sim/v", 5, np.nan), "sim/v"),
    ("se_inf", _set("sim/se", 5, np.inf), "sim/se"),
    ("buf_nan", _set("sim/buf", (1, 0, 30), np.nan), "sim/buf"),
    ("ref_huge", _set("sim/ref", 25, 10**6), "sim/ref"),
    ("last_future", _set("sim/last", 25, 10**9), "sim/last"),
    ("last_negative", _set("sim/last", 25, -1), "sim/last"),
    ("pq_next_past", _pq_past, "sim/pq_next"),
    ("pq_dirty", _set("sim/pq_dirty", 0, 5), "sim/pq_dirty"),
    ("pq_cnt_negative", _set("sim/pq_cnt", 0, -1), "sim/pq_cnt"),
    ("pq_rates_differ", _set("sim/pq_rates", 0, 1.0), "sim/pq_rates"),
    ("trl_future", _set("sim/trl", 0, 10**9), "sim/trl"),
    ("trace_negative", _set("sim/tr1", 0, -1.0), "sim/tr1"),
    ("elig_nan", _set("sim/elig", 0, np.nan), "sim/elig"),
    ("reward_inf", _set("sim/reward", 0, np.inf), "sim/reward"),
    ("v_float32", _replace("sim/v", lambda a: a.astype(np.float32)), "sim/v"),
    ("buf_shape", _replace("sim/buf", lambda a: a[:-1]), "sim/buf"),
]

# Format-2 files (named state), the format written today
CRASHY = [
    ("active_index_oob", _set("events/active_index", 0, 10**9), "events/active_index"),
    ("active_pop_oob", _set("events/active_pop", 0, 10**6), "events/active_pop"),
    ("input_count_huge", _input_count_huge, "events/input_count"),
    ("input_index_oob", _input_index_oob, "events/input_index"),
    ("input_pop_source", _input_pop_source, "events/input_pop"),
    ("proj_indices_oob", _proj_arr("src_a", "indices", lambda a: _with(a, 0, 10**6)), "indices"),
    ("delay_int16_wrap", _proj_arr("inp_a", "delays", lambda a: _with(a.astype(np.int32), 0, 65537)), "delays"),
    ("xb_n_devices", _xb_state("n_devices", 1), "n_devices"),
]
REFUSED = CRASHY + [
    ("active_index_negative", _set("events/active_index", 0, -1), "events/active_index"),
    ("active_duplicate", _active_duplicate, "events/active_pop+active_index"),
    ("active_truncated", _active_truncated, "events/active_index"),
    ("input_duplicate", _input_duplicate, "events/input_pop+input_index"),
    ("input_unlisted", _input_unlisted, "pop/*/state/input"),
    ("v_nan", _named("pop", "a", "v", 5, np.nan), "state/v"),
    ("syn_exc_inf", _named("pop", "a", "syn_exc", 5, np.inf), "state/syn_exc"),
    ("input_nan", _named("pop", "a", "input", (1, 0, 3), np.nan), "state/input"),
    ("refractory_huge", _named("pop", "a", "refractory", 2, 10**6), "state/refractory"),
    ("last_update_future", _named("pop", "a", "last_update", 2, 10**9), "state/last_update"),
    ("last_update_negative", _named("pop", "a", "last_update", 2, -1), "state/last_update"),
    ("next_spike_past", _named_pq_past, "state/next_spike"),
    ("redraw_five", _named("pop", "inp", "redraw", 0, 5), "state/redraw"),
    ("draws_negative", _named("pop", "inp", "draws", 0, -1), "state/draws"),
    ("trace_step_future", _named("proj", "inp_a", "pre_step", 0, 10**9), "state/pre_step"),
    ("trace_negative", _named("proj", "inp_a", "post_o1", 0, -1.0), "state/post_o1"),
    ("eligibility_nan", _named("proj", "a_b", "eligibility", 0, np.nan), "state/eligibility"),
    ("reward_inf", _named("proj", "a_b", "reward", 0, np.inf), "state/reward"),
    ("v_float32", _named_replace("pop", "a", "v", lambda a: a.astype(np.float32)), "state/v"),
    ("input_shape", _named_replace("pop", "a", "input", lambda a: a[:-1]), "state/input"),
    ("state_missing", _named_replace("pop", "b", "adaptation", lambda a: None), "state/adaptation"),
    ("step_negative", _meta_sim("step", -1), "step"),
    ("step_text", _meta_sim("step", "12"), "step"),
    ("mode_unknown", _meta_sim("mode", "turbo"), "mode"),
    ("indptr_decreasing", _proj_arr("a_b", "indptr", lambda a: _with(a, 1, a[2] + 1)), "indptr"),
    ("indices_float", _proj_arr("a_b", "indices", lambda a: a.astype(np.float64) + 0.5), "indices"),
    ("weights_nan", _proj_arr("a_b", "weights", lambda a: _with(a, 0, np.nan)), "weights"),
    ("delays_zero", _proj_arr("inp_a", "delays", lambda a: _with(a, 0, 0)), "delays"),
    ("delay_uniform_huge", _proj_meta("src_a", "delay_uniform", 10**6), "delay_uniform"),
    ("spike_index_oob", _pop_arr("src", "indices", lambda a: _with(a, 0, 7)), "indices"),
    ("spike_time_off_grid", _pop_arr("src", "times", lambda a: _with(a, 0, 0.00051234)), "grid"),
    ("rates_negative", _pop_arr("inp", "rates", lambda a: _with(a, (0, 0), -3.0)), "rates"),
    ("rates_nan", _pop_arr("inp", "rates", lambda a: _with(a, (0, 0), np.nan)), "rates"),
    ("state_monitor_index_oob", _mon_arr("st_a", "indices", lambda a: _with(a, 0, 999)), "indices"),
    ("spike_monitor_i_oob", _mon_arr("spk_a", "i", lambda a: _with(a, 0, 999)), "/i"),
    ("spike_monitor_step_future", _mon_arr("spk_a", "steps", lambda a: _with(a, -1, 10**9)), "/steps"),
    ("xb_counts_negative", _proj_arr("inp_b_xb", "crossbar/counts", lambda a: _with(a, 0, -1)), "counts"),
    ("xb_unknown_state_key", _xb_state("spec", 1), "state"),
]


def _craft(good, edit, path: Path) -> Path:
    meta, arrays = _copy(good[1], good[2])
    edit(meta, arrays)
    return write_container(path, meta, arrays)


@pytest.mark.parametrize("case, edit, field", REFUSED, ids=[c[0] for c in REFUSED])
def test_crafted_checkpoint_is_refused_naming_the_field(good, tmp_path, case, edit, field):
    path = _craft(good, edit, tmp_path / f"{case}.msnn")
    read_container(path)  # the checksum is valid: only the content is wrong
    with pytest.raises(CheckpointError, match=None) as info:
        load_network(path)
    assert field in str(info.value), str(info.value)


@pytest.mark.parametrize("case, edit, field", REFUSED_V1, ids=[c[0] for c in REFUSED_V1])
def test_crafted_format_1_checkpoint_is_refused_naming_the_field(good_v1, tmp_path, case, edit, field):
    path = _craft(good_v1, edit, tmp_path / f"{case}.msnn")
    with pytest.raises(CheckpointError) as info:
        load_network(path)
    assert field in str(info.value), str(info.value)


@pytest.mark.parametrize("which", ["good", "good_v1"])
def test_unmodified_checkpoint_loads_and_runs(request, which):
    net = load_network(request.getfixturevalue(which)[0])
    net.run(0.003)
    assert C.finite_state(net)


def test_crash_prone_files_are_refused_in_a_child_and_by_the_cli(good, tmp_path):
    paths = [str(_craft(good, edit, tmp_path / f"{case}.msnn")) for case, edit, _ in CRASHY]
    code = f"""
from memr_snn.io import CheckpointError
from memr_snn.io.checkpoint import load_network
for p in {paths!r}:
    try:
        net = load_network(p)
    except CheckpointError:
        continue
    net.run(0.01)  # unchecked, this is where the kernel would read out of bounds
    raise AssertionError(f"{{p}} was accepted")
"""
    assert_no_crash(run_isolated(code, env=CHILD_ENV, timeout=120))
    for p in paths[:3]:
        proc = subprocess.run([sys.executable, "-m", "memr_snn", "run", p, "--duration", "0.002",
                               "--out", str(tmp_path / "out"), "--no-plots"],
                              capture_output=True, text=True, timeout=120, env={**os.environ, **CHILD_ENV})
        assert proc.returncode > 0, (proc.returncode, proc.stderr[-2000:])  # an error, not a signal, not ok
        assert "cannot read checkpoint" in proc.stderr, proc.stderr[-2000:]


# ------------------------------------------------------------------------------------------- (b) fuzzer

_INT_VALUES = [0, 1, -1, 2, 5, 40, 41, 10**6, 2**31 - 1, -(2**31), 2**62, -(2**62)]
_FLOAT_VALUES = [0.0, -1.0, 1.0, 0.5, 123.0, -1e3, np.nan, np.inf, -np.inf]


@st.composite
def _mutation(draw, names: list[str], shapes: dict[str, tuple]):
    if draw(st.integers(0, 9)) == 0:
        return ("meta", draw(st.sampled_from(["step", "mode"])),
                draw(st.sampled_from([0, 1, -1, 2**62, 10**9, "event", "dense", None])))
    name = draw(st.sampled_from(names))
    size = int(np.prod(shapes[name]))
    flat = draw(st.integers(0, max(size - 1, 0)))
    return ("array", name, flat, draw(st.integers(0, 10**6)))


def _apply(meta, arrays, mutation, rng_seed=0):
    if mutation[0] == "meta":
        meta["simulator"][mutation[1]] = mutation[2]
        return
    _, name, flat, pick = mutation
    arr = arrays[name]
    if arr.size == 0:
        return
    flat = arr.reshape(-1)
    k = mutation[2]
    if arr.dtype.kind == "f":
        flat[k] = _FLOAT_VALUES[pick % len(_FLOAT_VALUES)]
    elif arr.dtype.kind in "iu":
        info = np.iinfo(arr.dtype)
        flat[k] = int(np.clip(_INT_VALUES[pick % len(_INT_VALUES)], info.min, info.max))
    elif arr.dtype.kind == "b":
        flat[k] = not flat[k]


FUZZ_CASES = 30


@settings(max_examples=fuzz_examples(2), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_checkpoints_load_and_run_or_are_refused(good, good_v1, tmp_path, data):
    folder = tmp_path / f"fuzz{time.monotonic_ns()}"
    folder.mkdir()
    paths = []
    for c in range(FUZZ_CASES):  # alternately the format written today and format 1
        meta0, arrays0 = (good, good_v1)[c % 2][1:]
        names = sorted(k for k in arrays0 if k.startswith(("sim/", "proj/", "pop/", "mon/", "events/")))
        shapes = {k: arrays0[k].shape for k in names}
        meta, arrays = _copy(meta0, arrays0)
        for m in data.draw(st.lists(_mutation(names, shapes), min_size=1, max_size=3), label=f"case {c}"):
            _apply(meta, arrays, m)
        paths.append(str(write_container(folder / f"{c}.msnn", meta, arrays)))
    code = f"""
import numpy as np
from memr_snn.io import CheckpointError
from memr_snn.io.checkpoint import load_network
from reliability.ckpt_cases import finite_state
for p in {paths!r}:
    try:
        net = load_network(p)
    except CheckpointError:
        continue
    net.run(0.003)
    assert finite_state(net), f"{{p}}: accepted, but the run left non-finite state"
"""
    assert_no_crash(run_isolated(code, env=CHILD_ENV, timeout=300))


# ------------------------------------------------------------------------------------ (c) unsafe targets


def test_fifo_target_is_refused_before_opening(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFileError, match="FIFO"):
        write_container(fifo, {}, {"a": np.zeros(3)})  # opening a FIFO for writing would block
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_device_node_target_is_refused_and_untouched(tmp_path, good):
    before = os.lstat("/dev/null")
    listing = set(os.listdir("/dev"))
    net = load_network(good[0])
    with pytest.raises(NotARegularFileError, match="character device"):
        save_network(net, "/dev/null")
    after = os.lstat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert set(os.listdir("/dev")) - listing == set()  # no temporary file was created beside it


def test_directory_target_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError):
        write_container(tmp_path, {}, {})
    assert list(tmp_path.iterdir()) == []


def test_symlink_is_replaced_not_followed(tmp_path):
    target = tmp_path / "target"
    target.write_bytes(b"precious")
    link = tmp_path / "link"
    link.symlink_to(target)
    write_container(link, {"x": 1}, {})
    assert target.read_bytes() == b"precious"
    assert not link.is_symlink() and read_container(link)[0] == {"x": 1}
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link2 = tmp_path / "link2"
    link2.symlink_to(fifo)
    write_container(link2, {}, {})
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and not link2.is_symlink()


# ----------------------------------------------------------------------------- (d) invalid state on save


@pytest.mark.parametrize("spoil, field", [
    (lambda sim: sim.v.__setitem__(3, np.nan), "sim/v"),
    (lambda sim: sim.act_n.__setitem__(0, 10**6), "sim/act_n"),
    (lambda sim: sim.sq_cursor.__setitem__(0, -1), "sim/sq_cursor"),
])
def test_save_refuses_a_state_load_would_refuse_and_keeps_the_good_file(good, tmp_path, spoil, field):
    path = tmp_path / "net.msnn"
    net = load_network(good[0])
    net.run(0.002)
    save_network(net, path)
    original = path.read_bytes()
    spoil(net._sim)
    with pytest.raises(CheckpointStateError, match=field):
        save_network(net, path)
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.msnn"]
    load_network(path)


# --------------------------------------------------------------------------------- (e) killed while saving

_SAVER = """
import sys
from memr_snn.io.checkpoint import save_network
from reliability import ckpt_cases as C
net = C.build(n_inp=1500, n_a=400)
net.run(0.002)
print("ready", flush=True)
while True:
    save_network(net, sys.argv[1])
"""


def test_sigkill_during_save_keeps_the_old_file_and_the_next_save_cleans_up(good, tmp_path):
    path = tmp_path / "net.msnn"
    net = load_network(good[0])
    save_network(net, path)
    original = path.read_bytes()
    killed_with_temp = False
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], stdout=subprocess.PIPE, text=True,
                                env={**os.environ, **CHILD_ENV})
        try:
            assert proc.stdout.readline().strip() == "ready"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
                    break
                time.sleep(0.0005)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
        assert proc.returncode == -signal.SIGKILL
        temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        load_network(path)  # the target is always a complete file: the old one or a new one
        if temps:
            killed_with_temp = True
            assert f"-{proc.pid}." in temps[0].name
            assert stale_temporaries(path) == temps
            break
    assert killed_with_temp, "never caught the saver mid-write"
    save_network(net, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.msnn"]
    assert path.read_bytes() == original  # same network and state: same bytes


def test_live_and_foreign_temporaries_are_never_removed(tmp_path):
    from memr_snn.io.atomic import _host_tag

    path = tmp_path / "f"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        host = _host_tag()
        live = tmp_path / f".f.{host}-{sleeper.pid}.0123456789ab.tmp"
        stale = tmp_path / f".f.{host}-{dead.pid}.0123456789ab.tmp"
        foreign = tmp_path / f".f.{'0' * 8 if host != '0' * 8 else '1' * 8}-{dead.pid}.0123456789ab.tmp"
        other_target = tmp_path / f".g.{host}-{dead.pid}.0123456789ab.tmp"
        old_style = tmp_path / ".f.0123456789ab.tmp"
        for p in (live, stale, foreign, other_target, old_style):
            p.write_bytes(b"partial")
        with atomic_write(path) as fh:
            fh.write(b"new")
        left = {p.name for p in tmp_path.iterdir()}
        assert stale.name not in left
        assert {live.name, foreign.name, other_target.name, old_style.name, "f"} <= left
    finally:
        sleeper.kill()
        sleeper.wait()
