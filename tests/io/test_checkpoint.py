"""Checkpoint/resume: a saved network continues bit for bit, in this process and in a new one."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from memr_snn import (
    ALIFParams,
    AllToAll,
    FixedInDegree,
    FixedProbability,
    LIFCondParams,
    LIFParams,
    Network,
    PoissonSource,
    Population,
    Projection,
    RateMonitor,
    SpikeMonitor,
    SpikeSource,
    StateMonitor,
)
from memr_snn.io import CheckpointError
from memr_snn.units import ms, nS, pA


def build(engine: str) -> Network:
    """A small network with every kind of part: inputs, three neuron models, delays, monitors."""
    net = Network(dt=0.1 * ms, seed=3, engine=engine)
    inp = net.add(PoissonSource(50, rates=np.linspace(5, 80, 50), name="inp"))
    src = net.add(SpikeSource(3, [0.001, 0.002, 0.0105], [0, 2, 1], name="src"))
    a = net.add(Population(40, LIFParams(i_bias=np.linspace(0, 300, 40) * pA), name="a"))
    b = net.add(Population(30, ALIFParams(tau_syn_e=3 * ms, tau_syn_i=10 * ms), name="b"))
    c = net.add(Population(20, LIFCondParams(), name="c", initial={"v": -0.06}))
    net.add(Projection(inp, a, FixedProbability(0.3), weights=80 * pA,
                       delays=lambda r, n: r.integers(1, 6, n)))
    net.add(Projection(src, b, AllToAll(), weights=500 * pA, delays=2))
    net.add(Projection(a, b, FixedProbability(0.3), weights=lambda r, n: r.normal(300, 30, n) * pA))
    net.add(Projection(b, a, FixedInDegree(5), weights=-50 * pA, receptor="inh", delays=3))
    net.add(Projection(inp, c, FixedProbability(0.3), weights=3 * nS))
    net.add(Projection(a, c, FixedProbability(0.2), weights=2 * nS, receptor="inh"))
    for pop in (inp, src, a, b, c):
        net.add(SpikeMonitor(pop))
    net.add(StateMonitor(a, ("v", "i_e"), indices=[0, 5, 39], interval=0.5 * ms))
    net.add(RateMonitor(b))
    return net


def record(net: Network):
    out = []
    for m in net.monitors:
        if isinstance(m, SpikeMonitor):
            out.append((m.steps.copy(), m.i.copy()))
        elif isinstance(m, StateMonitor):
            out.append((m.steps.copy(), m.values["v"].copy(), m.values["i_e"].copy()))
        else:
            out.append((m.counts.copy(),))
    return out


def assert_same(x, y):
    assert len(x) == len(y)
    for a, b in zip(x, y, strict=True):
        for u, v in zip(a, b, strict=True):
            np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("engine", ["dense", "event"])
def test_resume_in_process_is_bit_identical(tmp_path, engine):
    full = build(engine)
    full.run(0.2)
    half = build(engine)
    half.run(0.1)
    path = tmp_path / "net.msnn"
    half.save(path)
    resumed = Network.load(path)
    assert resumed.step == 1000
    resumed.run(0.1)
    assert_same(record(full), record(resumed))
    assert sum(m.num_spikes for m in full.monitors if isinstance(m, SpikeMonitor)) > 100


def test_resume_in_new_process_is_bit_identical(tmp_path):
    full = build("event")
    full.run(0.2)
    half = build("event")
    half.run(0.1)
    path = tmp_path / "net.msnn"
    half.save(path)
    out = tmp_path / "spikes.npz"
    code = textwrap.dedent(f"""
        import numpy as np
        from memr_snn import Network, SpikeMonitor
        net = Network.load({str(path)!r})
        net.run(0.1)
        mons = [m for m in net.monitors if isinstance(m, SpikeMonitor)]
        np.savez({str(out)!r}, **{{f"s{{k}}": m.steps for k, m in enumerate(mons)}},
                 **{{f"i{{k}}": m.i for k, m in enumerate(mons)}})
    """)
    subprocess.run([sys.executable, "-c", code], check=True)
    data = np.load(out)
    mons = [m for m in full.monitors if isinstance(m, SpikeMonitor)]
    for k, m in enumerate(mons):
        np.testing.assert_array_equal(data[f"s{k}"], m.steps)
        np.testing.assert_array_equal(data[f"i{k}"], m.i)


def test_save_before_run_then_run(tmp_path):
    ref = build("auto")
    ref.run(0.05)
    fresh = build("auto")
    fresh.save(tmp_path / "n.msnn")
    loaded = Network.load(tmp_path / "n.msnn")
    loaded.run(0.05)
    assert_same(record(ref), record(loaded))


def test_weights_written_by_user_survive(tmp_path):
    net = build("dense")
    proj = net.projections[2]
    proj.weights = 123 * pA
    net.run(0.01)
    net.save(tmp_path / "n.msnn")
    loaded = Network.load(tmp_path / "n.msnn")
    np.testing.assert_array_equal(loaded.projections[2].weights, proj.weights)


def test_corrupted_and_truncated_files_are_refused(tmp_path):
    net = build("dense")
    net.run(0.01)
    path = tmp_path / "n.msnn"
    net.save(path)
    data = path.read_bytes()
    for pos in (20, len(data) // 3, len(data) // 2, len(data) - 5):
        bad = bytearray(data)
        bad[pos] ^= 0x10
        (tmp_path / "bad.msnn").write_bytes(bytes(bad))
        with pytest.raises(CheckpointError):
            Network.load(tmp_path / "bad.msnn")
    for cut in (0, 7, 100, len(data) - 1):
        (tmp_path / "cut.msnn").write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="truncated|not a memr_snn|too short|empty"):
            Network.load(tmp_path / "cut.msnn")


def test_other_container_kind_is_refused(tmp_path):
    from memr_snn.io import write_container

    write_container(tmp_path / "x.msnn", {"kind": "something else"}, {})
    with pytest.raises(CheckpointError, match="not a network checkpoint"):
        Network.load(tmp_path / "x.msnn")


def test_inconsistent_content_is_refused(tmp_path):
    from memr_snn.io import read_container, write_container

    net = build("dense")
    net.run(0.01)
    net.save(tmp_path / "n.msnn")
    meta, arrays = read_container(tmp_path / "n.msnn")
    arrays["pop/2/state/v"] = arrays["pop/2/state/v"][:-1]
    write_container(tmp_path / "bad.msnn", meta, arrays)
    with pytest.raises(CheckpointError, match="inconsistent"):
        Network.load(tmp_path / "bad.msnn")


def test_float32_weights_round_trip(tmp_path):
    from memr_snn.networks import cuba

    va = cuba(n=400, seed=4, weight_dtype="float32")
    assert va.net.projections[0].weights.dtype == np.float32 or va.net._sim is None
    va.net.run(0.05)
    assert va.net.projections[0].weights.dtype == np.float32
    assert va.net.synapse_bytes() / va.net.n_synapses < 8.5
    va.net.save(tmp_path / "n.msnn")
    loaded = Network.load(tmp_path / "n.msnn")
    assert loaded.weight_dtype == "float32"
    loaded.run(0.05)
    ref = cuba(n=400, seed=4, weight_dtype="float32")
    ref.net.run(0.1)
    assert_same(record(ref.net), record(loaded))


def test_bad_weight_dtype():
    with pytest.raises(ValueError, match="weight_dtype must be one of"):
        Network(dt=0.1 * ms, weight_dtype="int8")
    with pytest.raises(ValueError, match="weight_dtype must be one of"):
        Network(dt=0.1 * ms, weight_dtype="nonsense")


# ------------------------------------------------------------------------------- file format versions

DATA = __import__("pathlib").Path(__file__).parent / "data"


@pytest.mark.parametrize("engine", ["dense", "event"])
def test_format_1_files_load_and_continue_bit_identically(engine):
    """Files written before the named state (format 1: the engine's kernel arrays) still load."""
    from memr_snn.io import read_container

    path = DATA / f"v1_{engine}.msnn"  # build(engine).run(0.1).save(...) with memr_snn's format 1
    assert read_container(path)[0]["version"] == 1
    full = build(engine)
    full.run(0.2)
    resumed = Network.load(path)
    assert resumed.step == 1000
    resumed.run(0.1)
    assert_same(record(resumed), record(full))


def test_format_1_file_resaved_in_format_2_continues_identically(tmp_path):
    from memr_snn.io import read_container

    old = Network.load(DATA / "v1_event.msnn")
    old.save(tmp_path / "v2.msnn")
    meta, arrays = read_container(tmp_path / "v2.msnn")
    assert meta["version"] == 2 and not any(k.startswith("sim/") for k in arrays)
    a, b = Network.load(tmp_path / "v2.msnn"), Network.load(DATA / "v1_event.msnn")
    a.run(0.05)
    b.run(0.05)
    assert_same(record(a), record(b))


def test_state_is_stored_named_by_owner(tmp_path):
    """Format 2 stores each population's and projection's state under it, with readable names."""
    from memr_snn.io import read_container

    net = build("dense")
    net.run(0.02)
    net.save(tmp_path / "n.msnn")
    meta, arrays = read_container(tmp_path / "n.msnn")
    names = [p["name"] for p in meta["populations"]]
    for k, pop in enumerate(net.populations):
        if pop.kind == "neurons":
            syn = ("g_e", "g_i") if "g_e" in pop.neuron.state_variables else ("i_e", "i_i")
            for var, field in (("v", "v"), (syn[0], "syn_exc"), (syn[1], "syn_inh")):
                np.testing.assert_array_equal(arrays[f"pop/{k}/state/{field}"], net.get_state(pop, var))
            assert arrays[f"pop/{k}/state/input"].shape[2] == pop.n
    assert names == ["inp", "src", "a", "b", "c"]
    assert arrays["events/active_pop"].size == 0  # dense mode keeps no event lists
    assert not any(k.startswith("sim/") for k in arrays)


@pytest.mark.parametrize("version, match", [(3, "newer memr_snn"), (99, "upgrade"), ("2", "unsupported"),
                                            (0, "unsupported")])
def test_unknown_format_is_refused_clearly(tmp_path, version, match):
    from memr_snn.io import read_container, write_container

    meta, arrays = read_container(DATA / "v1_dense.msnn")
    meta["version"] = version
    write_container(tmp_path / "x.msnn", meta, arrays)
    with pytest.raises(CheckpointError, match=match):
        Network.load(tmp_path / "x.msnn")
