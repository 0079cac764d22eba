"""The sweep spec: plan order, seeds from one root keyed by position, keys, config parsing, refusals."""

import numpy as np
import pytest

from memr_snn.sweep import Distribution, SweepSpec, plan, point_key, spec_from_dict
from memr_snn.sweep.config import config_from_dict, load_config
from memr_snn.sweep.experiments import resolve_experiment

Q = "sweep.experiments_for_tests:quadratic"


def _spawned(root: int, *path: int) -> int:
    """The seed numpy's own spawn tree gives: child path[0] of the root, then its child path[1], ..."""
    ss = np.random.SeedSequence(root)
    for k in path:
        ss = ss.spawn(k + 1)[k]
    return int(ss.generate_state(1, np.uint32)[0])


def test_plan_order_and_seeds_follow_the_spawn_tree():
    spec = SweepSpec(Q, grid=(("x", (0.0, 1.0, 2.0)), ("offset", (0, 5))), seeds=3, root_seed=42)
    points = plan(spec, "v")
    assert len(points) == spec.n_points == 18
    assert [(p.params["x"], p.params["offset"]) for p in points[::3]] == [
        (0.0, 0), (0.0, 5), (1.0, 0), (1.0, 5), (2.0, 0), (2.0, 5)]  # last axis fastest
    for p in points:
        assert p.seed == _spawned(42, 0, p.index, p.replicate)
    assert len({p.seed for p in points}) == 18
    common = plan(SweepSpec(Q, grid=(("x", (0.0, 1.0)),), seeds=2, root_seed=42, common_seeds=True), "v")
    assert [p.seed for p in common] == [_spawned(42, 1, 0), _spawned(42, 1, 1)] * 2


def test_a_points_seed_does_not_depend_on_the_rest_of_the_plan():
    small = plan(SweepSpec(Q, grid=(("x", (0.0, 1.0)),), seeds=2, root_seed=7), "v")
    big = plan(SweepSpec(Q, grid=(("x", (0.0, 1.0, 3.0)),), seeds=4, root_seed=7), "v")
    by_pos = {(p.index, p.replicate): p for p in big}
    for p in small:
        assert by_pos[(p.index, p.replicate)].seed == p.seed and by_pos[(p.index, p.replicate)].key == p.key


def test_random_draws_are_reproducible_and_in_range():
    dists = (("x", Distribution("uniform", low=-1.0, high=2.0)), ("offset", Distribution("integers", low=1, high=3)))
    spec = SweepSpec(Q, draws=50, distributions=dists, root_seed=3)
    a, b = plan(spec, "v"), plan(spec, "v")
    assert [p.params for p in a] == [p.params for p in b]
    xs = np.array([p.params["x"] for p in a])
    assert xs.min() >= -1 and xs.max() <= 2 and len(set(xs)) == 50
    assert {p.params["offset"] for p in a} == {1, 2, 3}
    rng = np.random.default_rng(np.random.SeedSequence(3, spawn_key=(2, 7)))  # draw 7 from its own stream
    assert a[7].params == {"x": rng.uniform(-1.0, 2.0), "offset": int(rng.integers(1, 3, endpoint=True))}
    log = Distribution("loguniform", low=1e-3, high=1e-1)
    vals = [log.draw(np.random.default_rng(s)) for s in range(200)]
    assert 1e-3 <= min(vals) and max(vals) <= 1e-1 and abs(np.median(np.log10(vals)) + 2) < 0.2


def test_grid_and_draws_combine():
    spec = SweepSpec(Q, grid=(("offset", (0, 1)),), draws=3,
                     distributions=(("x", Distribution("choice", values=(0.5, 1.5, 2.5))),), seeds=2)
    points = plan(spec, "v")
    assert len(points) == 12 and [p.params["offset"] for p in points[::2]] == [0, 0, 0, 1, 1, 1]
    assert [p.params["x"] for p in points[:6:2]] == [p.params["x"] for p in points[6::2]]


def test_key_depends_on_everything_that_defines_the_result():
    base = point_key("e", {"x": 1.0}, 5, "v1")
    assert base == point_key("e", {"x": 1.0}, 5, "v1") and len(base) == 20
    others = [point_key("f", {"x": 1.0}, 5, "v1"), point_key("e", {"x": 2.0}, 5, "v1"),
              point_key("e", {"x": 1}, 5, "v1"), point_key("e", {"x": 1.0}, 6, "v1"),
              point_key("e", {"x": 1.0}, 5, "v2")]
    assert len({base, *others}) == 6


def test_mixed_int_float_axis_becomes_float():
    spec = SweepSpec(Q, grid=(("x", (0, 0.5, 1)),))
    assert spec.grid == (("x", (0.0, 0.5, 1.0)),)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"grid": (("x", ()),)}, "grid axis 'x' is empty"),
    ({"grid": (("x", (1.0, 1.0)),)}, "repeats a value"),
    ({"grid": (("x", "abc"),)}, "must be a list"),
    ({"grid": (("x", (1.0,)),), "fixed": (("x", 2.0),)}, "given more than once"),
    ({"grid": (("seed", (1, 2)),)}, "'seed' cannot be a parameter"),
    ({"seeds": 0}, "seeds must be an integer >= 1"),
    ({"draws": 3}, "no distributions"),
    ({"grid": (("x", (float("nan"),)),)}, "finite"),
    ({"grid": (("x", ([1],)),)}, "numbers, booleans or strings"),
])
def test_spec_refusals(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SweepSpec(Q, **kwargs)


@pytest.mark.parametrize(("kind", "fields", "match"), [
    ("gauss", {}, "kind must be one of"),
    ("uniform", {"low": 1.0}, "'high' is missing"),
    ("uniform", {"low": 2.0, "high": 1.0}, "low <= high"),
    ("loguniform", {"low": 0.0, "high": 1.0}, "must be > 0"),
    ("normal", {"mean": 0.0, "std": -1.0}, "std"),
    ("choice", {"values": ()}, "non-empty"),
    ("integers", {"low": 0.5, "high": 2}, "must be integers"),
])
def test_distribution_refusals(kind, fields, match):
    with pytest.raises(ValueError, match=match):
        Distribution(kind, **fields)


def test_spec_round_trips_through_its_dict_and_fingerprint():
    spec = SweepSpec(Q, grid=(("x", (0.0, 1.0)),), fixed=(("offset", 3),), draws=2,
                     distributions=(("fail_at", Distribution("normal", mean=0.0, std=1.0)),), seeds=2, version="7")
    again = spec_from_dict(spec.to_dict())
    assert again == spec and again.fingerprint() == spec.fingerprint()
    other = SweepSpec(Q, grid=(("x", (0.0, 2.0)),))
    assert other.fingerprint() != SweepSpec(Q, grid=(("x", (0.0, 1.0)),)).fingerprint()


@pytest.mark.parametrize(("data", "match"), [
    ({"experiment": Q, "gird": {"x": [1]}}, "unknown key"),
    ({"grid": {"x": [1]}}, "needs 'experiment'"),
    ({"experiment": Q, "grid": {}}, "the grid is empty"),
    ({"experiment": Q, "grid": {"x": []}}, "grid axis 'x' is empty"),
    ({"experiment": Q, "random": {"draws": 2, "params": {"x": {"low": 0}}}}, "must be a table with 'dist'"),
    ({"experiment": Q, "random": {"draws": 2, "params": {"x": {"dist": "uniform", "low": 0, "hi": 1}}}},
     "not \\['hi'\\]"),
    ({"experiment": Q, "executor": {"kind": "slurm"}}, "kind must be 'serial' or 'dask'"),
    ({"experiment": Q, "executor": {"nodes": 3}}, "unknown key"),
])
def test_config_refusals(data, match):
    with pytest.raises(ValueError, match=match):
        config_from_dict(data)


def test_config_file(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(f'experiment = "{Q}"\nseeds = 2\nout = "res"\n[grid]\nx = [0, 0.5]\n'
                    '[executor]\nkind = "serial"\n')
    cfg = load_config(path)
    assert cfg.spec.grid == (("x", (0.0, 0.5)),) and cfg.out == tmp_path / "res" and cfg.executor == {"kind": "serial"}
    path.write_text("experiment = \n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_config(path)


def test_experiment_resolution_and_parameter_checks():
    with pytest.raises(ValueError, match="unknown experiment 'nope'.*cuba-stuck-faults"):
        resolve_experiment("nope")
    with pytest.raises(ValueError, match="cannot import module"):
        resolve_experiment("no_such_module_xyz:f")
    with pytest.raises(ValueError, match="has no attribute"):
        resolve_experiment("sweep.experiments_for_tests:nothing")
    with pytest.raises(ValueError, match="must take a keyword argument 'seed'"):
        resolve_experiment("sweep.experiments_for_tests:no_seed")
    with pytest.raises(ValueError, match="cannot read the parameters"):
        resolve_experiment("numpy:zeros")
    exp = resolve_experiment(Q)
    with pytest.raises(ValueError, match=r"no parameter\(s\) \['z'\]; its parameters: \['fail_at', 'offset', "):
        exp.check(SweepSpec(Q, grid=(("z", (1,)),)))
    with pytest.raises(ValueError, match=r"needs parameter\(s\) \['a'\]"):
        resolve_experiment("sweep.experiments_for_tests:needs_a").check(SweepSpec("x:y"))
    builtin = resolve_experiment("cuba-stuck-faults")
    assert {"fault_rate", "n", "duration", "preset", "on_fraction"} == set(builtin.parameters)
    with pytest.raises(ValueError, match="no parameter"):
        builtin.check(SweepSpec("cuba-stuck-faults", grid=(("fault", (0.1,)),)))
