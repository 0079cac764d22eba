"""Core profiles: built-ins carry a citation per number, JSON round trip, bad fields refused by name."""

from __future__ import annotations

import copy
import json
import re

import pytest

from memr_snn.hardware import (
    CoreProfile,
    ProfileError,
    list_profiles,
    load_profile,
    profile_from_dict,
    profile_to_dict,
    save_profile,
)
from memr_snn.hardware.profiles import PROVENANCE, UNITS


def test_builtins_listed():
    assert {"loihi1", "loihi2"} <= set(list_profiles())


@pytest.mark.parametrize("name", ["loihi1", "loihi2"])
def test_every_number_has_a_source_and_provenance(name):
    p = load_profile(name)
    assert set(p.sources) == set(UNITS) and set(p.provenance) == set(UNITS)
    assert all(v in PROVENANCE for v in p.provenance.values())
    assert all(len(s) > 20 for s in p.sources.values())


# Davies et al. 2018 Table 2 as quoted in loihi1.json: the stored value must be the quoted one.
_TABLE2 = {
    "e_synop": ("23.6 pJ", 23.6e-12), "t_synop": ("3.5 ns", 3.5e-9), "e_synupdate": ("120 pJ", 120e-12),
    "t_synupdate": ("6.1 ns", 6.1e-9), "e_neuron_active": ("81 pJ", 81e-12), "e_neuron_inactive": ("52 pJ", 52e-12),
    "t_neuron_active": ("8.4 ns", 8.4e-9), "t_neuron_inactive": ("5.3 ns", 5.3e-9),
    "e_spike_tile": ("1.7 pJ", 1.7e-12), "t_spike_tile": ("2.1 ns", 2.1e-9), "e_hop_ew": ("3.0 pJ", 3.0e-12),
    "e_hop_ns": ("4.0 pJ", 4.0e-12), "t_hop_ew": ("4.1 ns", 4.1e-9), "t_hop_ns": ("6.5 ns", 6.5e-9),
    "t_barrier_min": ("113-465 ns", 113e-9), "t_barrier_max": ("113-465 ns", 465e-9),
}


@pytest.mark.parametrize("field", sorted(_TABLE2))
def test_loihi1_costs_match_their_quoted_source(field):
    p = load_profile("loihi1")
    quote, value = _TABLE2[field]
    assert quote in p.sources[field]
    assert "Table 2" in p.sources[field]
    assert getattr(p, field) == pytest.approx(value, rel=1e-12)
    assert p.provenance[field] == "published"


def test_loihi1_core_limits_match_their_quoted_constraints():
    p = load_profile("loihi1")
    for field, number in [("neurons_per_core", "1,024"), ("fan_in_axons_per_core", "4,096"),
                          ("fan_out_axons_per_core", "4,096"), ("max_synaptic_delay", "62")]:
        assert number in p.sources[field]
        assert getattr(p, field) == int(number.replace(",", ""))
    assert p.synaptic_memory_bits_per_core == 128 * 1024 * 8 and "128 KB" in p.sources["synaptic_memory_bits_per_core"]
    assert p.cores_per_chip == 128 and p.max_delay_steps == 63


def test_loihi2_flags_every_borrowed_cost():
    p = load_profile("loihi2")
    for field in _TABLE2:
        assert p.provenance[field] == "borrowed"
        assert "Loihi 1" in p.sources[field]
    assert "not published" in p.notes or "has not published" in p.notes
    assert p.max_synaptic_delay == 63 and p.adaptation == "native"


@pytest.mark.parametrize("name", ["loihi1", "loihi2"])
def test_round_trip_file_and_dict(name, tmp_path):
    p = load_profile(name)
    assert profile_from_dict(profile_to_dict(p)) == p
    path = save_profile(p, tmp_path / "p.json")
    assert load_profile(path) == p
    assert load_profile(str(path)) == p
    q = p.replace(neurons_per_core=512, name="half")
    assert load_profile(save_profile(q, tmp_path / "q.json")) == q


def _data():
    return copy.deepcopy(profile_to_dict(load_profile("loihi1")))


@pytest.mark.parametrize("mutate, match", [
    (lambda d: d["params"].pop("e_synop"), r"params\.e_synop: missing"),
    (lambda d: d["units"].update(e_synop="pJ"), r"units\.e_synop: expected 'J'"),
    (lambda d: d["sources"].pop("t_synop"), r"sources\.t_synop: missing"),
    (lambda d: d["sources"].update(t_synop="  "), r"sources\.t_synop"),
    (lambda d: d["provenance"].update(t_synop="guessed"), r"provenance\.t_synop: must be one of"),
    (lambda d: d["params"].update(neurons_per_core=10.5), r"neurons_per_core must be an integer"),
    (lambda d: d["params"].update(neurons_per_core=0), r"neurons_per_core must be >= 1"),
    (lambda d: d["params"].update(e_synop=-1.0), r"e_synop must be a finite number >= 0"),
    (lambda d: d["params"].update(e_synop="23.6 pJ"), r"e_synop must be a finite number"),
    (lambda d: d["params"].update(adaptation="maybe"), r"adaptation must be one of"),
    (lambda d: d["params"].update(weight_bits_default=12), r"weight_bits_default must be <= weight_bits_max"),
    (lambda d: d["params"].update(tiles_x=3), r"tiles_x \* tiles_y \* cores_per_tile must equal cores_per_chip"),
    (lambda d: d["params"].update(t_barrier_min=1.0), r"t_barrier_min must be <="),
    (lambda d: d["params"].update(bogus=1), r"params\.bogus: no such profile field"),
    (lambda d: d.update(extra=1), r"extra: unknown top-level key"),
    (lambda d: d.update(format="x"), r"format: expected 'memr_snn.core_profile'"),
    (lambda d: d.update(version=2), r"version: expected 1"),
    (lambda d: d.pop("notes"), r"notes: missing"),
])
def test_bad_fields_are_named(mutate, match):
    d = _data()
    mutate(d)
    with pytest.raises(ProfileError, match=match):
        profile_from_dict(d)


def test_bad_files_and_names(tmp_path):
    with pytest.raises(ProfileError, match=r"unknown core profile 'loihi9'; known profiles: \['loihi1', 'loihi2'"):
        load_profile("loihi9")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ProfileError, match="malformed JSON"):
        load_profile(bad)
    with pytest.raises(ProfileError, match="cannot read core profile"):
        load_profile(tmp_path / "missing.json")
    bad.write_text(json.dumps([1, 2]))
    with pytest.raises(ProfileError, match="JSON object at the top level"):
        load_profile(bad)


def test_constructor_validates():
    p = load_profile("loihi1")
    with pytest.raises(ProfileError, match="fan_in_axons_per_core must be >= 1"):
        p.replace(fan_in_axons_per_core=-3)
    with pytest.raises(ProfileError, match=re.escape("provenance.e_synop must be one of")):
        p.replace(provenance={**p.provenance, "e_synop": "folklore"})
    assert isinstance(p.replace(delay_units_per_core=0), CoreProfile)
