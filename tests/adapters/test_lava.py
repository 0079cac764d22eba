"""Lava adapter: live runs in Lava 0.10 (marker ``lava``) and checks that need no Lava.

The live tests run Lava's own ``fixed_pt`` models in a Python 3.10 subprocess
(``$MEMR_SNN_PYTHON310``) and require memr_snn's fixed-point run to equal them
spike for spike (and state for state where recorded).  All networks go through
one subprocess to keep Lava's start-up cost (~0.5 s per graph) low.
"""

import numpy as np
import pytest
import scipy.sparse as sp

import memr_snn as ms
from memr_snn.adapters.lava import (
    EXPORTERS,
    LavaExportError,
    LavaUnavailableError,
    export_lava,
    find_lava_python,
    read_lava_artifact,
    run_in_lava,
    write_lava_artifact,
)
from memr_snn.hardware import (
    FixedPointConnection,
    FixedPointNetwork,
    FixedPointPopulation,
    LoihiLIFParams,
    SpikeInput,
    run_fixed_point,
)
from memr_snn.hardware.conversion import UnsupportedElementError, to_fixed_point
from memr_snn.units import ms as MS
from memr_snn.units import pA

T = 80


def _random_fixed(seed):
    rng = np.random.default_rng(seed)
    n1, n2, m = int(rng.integers(5, 15)), int(rng.integers(3, 10)), int(rng.integers(3, 8))

    def w(shape, lo, hi, p=0.5):
        return np.where(rng.random(shape) < p, rng.integers(lo, hi + 1, shape), 0)

    pops = [
        FixedPointPopulation(
            "a", n1,
            LoihiLIFParams(du=int(rng.integers(0, 4096)), dv=int(rng.integers(0, 4096)), vth=int(rng.integers(1, 200)),
                           bias_mant=rng.integers(-40, 80, n1), bias_exp=rng.integers(0, 8, n1)),
            u0=rng.integers(-3000, 3000, n1), v0=rng.integers(-3000, 3000, n1),
        ),
        FixedPointPopulation("b", n2, LoihiLIFParams(du=int(rng.integers(0, 4096)), dv=int(rng.integers(0, 4096)),
                                                     vth=int(rng.integers(1, 200)))),
        FixedPointPopulation("lonely", 3, LoihiLIFParams(dv=100, vth=5, bias_mant=100, bias_exp=2)),
    ]
    conns = [
        FixedPointConnection("in", "a", sp.csr_matrix(w((n1, m), -256, 255)), weight_exp=int(rng.integers(-3, 4)),
                             num_weight_bits=int(rng.integers(4, 9))),
        FixedPointConnection("a", "b", w((n2, n1), 0, 255), weight_exp=-2, delays=rng.integers(0, 8, (n2, n1))),
        FixedPointConnection("b", "a", w((n1, n2), -255, 0), weight_exp=1, delays=rng.integers(0, 3, (n1, n2))),
        FixedPointConnection("a", "a", w((n1, n1), -256, 255), weight_exp=-1, num_weight_bits=7),
    ]
    return FixedPointNetwork(pops, [SpikeInput("in", rng.random((T, m)) < 0.2)], conns)


def _float_network():
    rng = np.random.default_rng(5)
    net = ms.Network(dt=0.1 * MS, seed=2)
    key = np.unique(rng.integers(0, T - 10, 300) * 20 + rng.integers(0, 20, 300))
    src = net.add(ms.SpikeSource(20, (key // 20) * 0.1 * MS, key % 20, name="in"))
    pop = net.add(ms.Population(30, ms.LIFParams(t_ref=0.0, i_bias=150 * pA), name="exc"))
    net.add(ms.Projection(src, pop, ms.FixedProbability(0.3), weights=lambda r, n: r.uniform(-100, 400, n) * pA,
                          delays=lambda r, n: r.integers(1, 6, n)))
    net.add(ms.Projection(pop, pop, ms.FixedProbability(0.2), weights=lambda r, n: r.uniform(-300, 100, n) * pA,
                          delays=2, receptor="inh"))
    return net


@pytest.fixture(scope="module")
def lava_runs():
    try:
        python = find_lava_python()
    except LavaUnavailableError as exc:
        pytest.skip(f"Lava not available: {exc}")
    nets = [_random_fixed(s) for s in range(3)] + [to_fixed_point(_float_network(), n_steps=T).network]
    return nets, run_in_lava(nets, T, record_state=True, python=python)


@pytest.mark.lava
@pytest.mark.parametrize("k", range(4))
def test_lava_run_equals_fixed_point_run(lava_runs, k):
    nets, results = lava_runs
    mine = run_fixed_point(nets[k], T, record_state=True)
    total = 0
    for p in nets[k].populations:
        np.testing.assert_array_equal(mine.spikes[p.name], results[k].spikes[p.name])
        np.testing.assert_array_equal(mine.u[p.name], results[k].u[p.name])
        np.testing.assert_array_equal(mine.v[p.name], results[k].v[p.name])
        total += int(mine.spikes[p.name].sum())
    assert total > 0


def test_artifact_round_trip_over_every_registered_type(tmp_path):
    net = _random_fixed(7)
    assert {type(p) for p in net.populations} | {type(s) for s in net.inputs} | {type(c) for c in net.connections} \
        == set(EXPORTERS)
    path = write_lava_artifact(net, T, tmp_path / "net.npz", record_state=True)
    back, n_steps, record = read_lava_artifact(path)
    assert (n_steps, record) == (T, True)
    a, b = run_fixed_point(net, T, record_state=True), run_fixed_point(back, T, record_state=True)
    for p, q in zip(net.populations, back.populations, strict=True):
        np.testing.assert_array_equal(a.spikes[p.name], b.spikes[q.name])
        np.testing.assert_array_equal(a.v[p.name], b.v[q.name])


def test_export_of_a_float_network_writes_an_artifact(tmp_path):
    path = export_lava(_float_network(), tmp_path / "f.npz", n_steps=T)
    net, n_steps, _ = read_lava_artifact(path)
    assert n_steps == T and net.populations[0].n == 30 and len(net.connections) == 2


def test_export_refuses_inexpressible_elements(tmp_path):
    net = ms.Network(dt=0.1 * MS, seed=0)
    net.add(ms.Population(3, ms.LIFCondParams(t_ref=0.0), name="cond"))
    with pytest.raises(UnsupportedElementError, match="'cond'.*conductance"):
        export_lava(net, tmp_path / "x.npz", n_steps=10)


def test_unregistered_element_is_refused():
    from memr_snn.adapters.lava import _converter

    with pytest.raises(LavaExportError, match="no converter"):
        _converter(object())


def test_missing_interpreter_says_how_to_provide_one():
    with pytest.raises(LavaUnavailableError, match="MEMR_SNN_PYTHON310"):
        find_lava_python("/nonexistent/python3.10")


def test_malformed_artifact_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable"):
        read_lava_artifact(bad)
    np.savez(tmp_path / "partial.npz", n_steps=3)
    with pytest.raises(ValueError, match="missing array"):
        read_lava_artifact(tmp_path / "partial.npz")


def _saved_float_network(tmp_path):
    net = _float_network()
    path = tmp_path / "net.msnn"
    net.save(path)
    return path


def test_cli_export_to_lava_writes_the_artifact(tmp_path, capsys):
    from memr_snn.cli import main

    out = tmp_path / "lava.npz"
    assert main(["export", "--network", str(_saved_float_network(tmp_path)), "--to", "lava", "--out", str(out),
                 "--lava-steps", str(T)]) == 0
    net, n_steps, _ = read_lava_artifact(out)
    assert n_steps == T and net.populations[0].name == "exc"
    assert "agreement" in capsys.readouterr().out


def test_cli_export_refuses_with_the_element_and_reason(tmp_path, capsys):
    from memr_snn.cli import main

    net = ms.Network(dt=0.1 * MS, seed=0)
    net.add(ms.Population(3, ms.ALIFParams(t_ref=0.0), name="adaptive"))
    net.save(tmp_path / "alif.msnn")
    assert main(["export", "--network", str(tmp_path / "alif.msnn"), "--to", "lava",
                 "--out", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err
    assert "'adaptive'" in err and "ALIF" in err


@pytest.mark.lava
def test_cli_export_run_in_lava(tmp_path, capsys):
    from memr_snn.cli import main

    try:
        find_lava_python()
    except LavaUnavailableError as exc:
        pytest.skip(f"Lava not available: {exc}")
    rc = main(["export", "--network", str(_saved_float_network(tmp_path)), "--to", "lava",
               "--out", str(tmp_path / "l.npz"), "--lava-steps", str(T), "--lava-run"])
    out = capsys.readouterr().out
    assert rc == 0 and "identical: True" in out and "spikes identical" in out


def test_cli_export_builtin_network_is_refused_for_its_refractory_period(tmp_path, capsys):
    from memr_snn.cli import main

    rc = main(["export", "--to", "lava", "--network", "cuba", "--n", "100", "--out", str(tmp_path / "c.npz")])
    assert rc == 2 and "refractory" in capsys.readouterr().err
