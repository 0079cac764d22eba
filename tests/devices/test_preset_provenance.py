"""Preset provenance: every built-in number has a source or a reason, the format is checked, the docs
table is the generated one."""

import copy
import json
from pathlib import Path

import pytest

from memr_snn.devices import Endurance, PresetError, list_presets, load_preset, preset_from_dict, preset_to_dict
from memr_snn.devices.presets import (
    PROVENANCE_BEGIN,
    PROVENANCE_END,
    _cited_keys,
    missing_provenance,
    provenance_fields,
    provenance_markdown,
    save_preset,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "devices.md"


@pytest.mark.parametrize("name", list_presets())
def test_every_builtin_parameter_has_a_source_or_a_reason(name):
    p = load_preset(name)
    assert missing_provenance(p) == []
    assert len(provenance_fields(p)) >= 40  # kind plus every field of the eight components
    # the references are exactly those the entries use, and the top-level source lists each of them
    assert _cited_keys(p) == set(p.references)
    for text in p.references.values():
        assert text in p.source
    if name == "ideal":
        assert p.references == {} and p.source == ""


def test_the_numbers_cited_from_papers_are_the_preset_values():
    """Values whose entry quotes a number from its source: the preset must still hold that number."""
    f = load_preset("fefet")
    assert f.provenance["device"]["levels"]["source"] == "jerry2017" and f.device.levels == 32  # 5 bit
    assert abs(f.device.g_max / f.device.g_min - 45) < 1e-9 and f.programming.t_pulse == 75e-9
    t = load_preset("taox_rram")
    assert t.provenance["programming"]["t_pulse"]["source"] == "lee2011" and t.programming.t_pulse == 10e-9
    assert (t.variability.g_min_d2d, t.variability.g_max_d2d) == (0.4, 0.24)  # 0.3 / 0.75, 0.3 / 1.25
    a = load_preset("pcm_aihwkit")
    assert (a.device.g_min, a.device.g_max, a.drift.t0, a.read_noise.flicker_t_read) == (0.0, 25e-6, 20.0, 250e-9)
    for name in ("pcm_gst", "pcm_aihwkit"):
        assert load_preset(name).device.refresh == 0.75  # OneSidedUnitCell.refresh_upper_thres


def test_no_builtin_cites_a_paper_of_another_technology_without_saying_so():
    """The mismatches found in the first release stay fixed: Prezioso et al. (Al2O3/TiO2-x) is not a TaOx
    source; Gong et al. 2018 is N. Gong; reviews that supply no number are not listed as sources."""
    for name in list_presets():
        src = load_preset(name).source
        assert "Prezioso" not in src and "S. Gong" not in src and "Gokmen" not in src
    t = load_preset("taox_rram")
    assert "stands in for TaOx" in t.provenance["device"]["kind"]["where"]


def test_provenance_round_trips_and_is_shown(tmp_path):
    p = load_preset("hfox_rram")
    d = preset_to_dict(p)
    assert d["provenance"]["variability"]["g_max_d2d"]["source"] == "gong2022"
    assert preset_from_dict(json.loads(json.dumps(d))) == p
    assert load_preset(save_preset(p, tmp_path / "h.json")).provenance == p.provenance


def test_files_without_provenance_still_load():
    d = preset_to_dict(load_preset("pcm_gst"))
    del d["provenance"], d["references"]
    p = preset_from_dict(d)
    assert p.provenance == {} and p.references == {}
    assert missing_provenance(p)[0] == "device.kind"
    d = preset_to_dict(load_preset("pcm_gst"))
    del d["provenance"]["drift"]  # partial provenance is fine in a user file
    assert "drift.nu" in missing_provenance(preset_from_dict(d))


def _bad(edit):
    d = preset_to_dict(load_preset("cbram"))
    edit(d)
    return d


@pytest.mark.parametrize("edit, match", [
    (lambda d: d["provenance"].update(wiring={}), r"provenance\.wiring: unknown component"),
    (lambda d: d["provenance"]["device"].update(g_mni={"assumed": "x"}), r"provenance\.device\.g_mni: unknown field"),
    (lambda d: d["provenance"]["device"].update(beta_up={"assumed": "x"}),  # cbram is soft_bounds: no beta
     r"provenance\.device\.beta_up: unknown field; fields of device \(soft_bounds\)"),
    (lambda d: d["provenance"]["faults"].update(p_stuck_on={"assumed": "x", "source": "jo2010"}),
     r"provenance\.faults\.p_stuck_on: an entry has exactly"),
    (lambda d: d["provenance"]["faults"].update(p_stuck_on={"where": "Fig. 2"}), r"p_stuck_on: an entry has exactly"),
    (lambda d: d["provenance"]["faults"].update(p_stuck_on={"assumed": "  "}),
     r"p_stuck_on\.assumed: must be a non-empty"),
    (lambda d: d["provenance"]["faults"].update(p_stuck_on={"source": "nobody2020"}),
     r"p_stuck_on\.source: 'nobody2020' is not a key of references"),
    (lambda d: d["provenance"]["faults"].update(p_stuck_on={"source": "jo2010", "where": ""}),
     r"p_stuck_on\.where: must be a non-empty"),
    (lambda d: d["provenance"]["faults"].update(p_stuck_on={"assumed": "as in [nobody2020]"}),
     r"p_stuck_on: mentions \[nobody2020\]"),
    (lambda d: d["provenance"]["faults"].update(p_stuck_on="assumed"), r"p_stuck_on: must be an object"),
    (lambda d: d["provenance"].update(faults=[]), r"provenance\.faults: must be an object"),
    (lambda d: d.update(provenance=None), r"provenance: must be an object"),
    (lambda d: d["references"].update(jo2010=""), r"references\.jo2010: must be a non-empty"),
    (lambda d: d["references"].update({"Jo 2010": "x"}), r"references\.Jo 2010: a citation key"),
    (lambda d: d.update(references=["jo2010"]), r"references: must be an object"),
    (lambda d: d["references"].pop("valov2011"), r"'valov2011' is not a key of references"),
])
def test_bad_provenance_is_refused_naming_the_path(edit, match):
    with pytest.raises(PresetError, match=match):
        preset_from_dict(_bad(edit))


def test_replace_drops_the_entries_of_changed_values():
    p = load_preset("hfox_rram")
    q = p.replace(endurance=Endurance(cycles=1e5, cycles_d2d=p.endurance.cycles_d2d, fail_state="on"))
    assert "cycles" not in q.provenance["endurance"] and "cycles_d2d" in q.provenance["endurance"]
    assert missing_provenance(q) == ["endurance.cycles"]
    assert p.replace(name="mine").provenance == p.provenance
    assert p.provenance["endurance"]["cycles"]  # the original is untouched


def test_provenance_is_copied_not_shared():
    d = preset_to_dict(load_preset("fefet"))
    p = preset_from_dict(d)
    d["provenance"]["device"]["levels"]["where"] = "changed"
    assert p.provenance["device"]["levels"]["where"] != "changed"
    assert preset_to_dict(p)["provenance"] == preset_to_dict(load_preset("fefet"))["provenance"]
    assert copy.deepcopy(p) == p


def test_docs_table_is_the_generated_one():
    text = DOC.read_text(encoding="utf-8")
    block = text.split(PROVENANCE_BEGIN)[1].split(PROVENANCE_END)[0]
    assert block == "\n" + provenance_markdown(), (
        "docs/devices.md is stale: python -c \"from memr_snn.devices.presets import update_provenance_doc as u; "
        "u('docs/devices.md')\"")
    assert "### Provenance of `hfox_rram`" in block and "**[gong2022]**" in block


def test_devices_show_prints_the_provenance(capsys):
    from memr_snn.cli import main

    assert main(["devices", "show", "taox_rram"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["provenance"]["programming"]["t_pulse"] == {"source": "lee2011", "where": "10 ns switching reported"}
    assert set(shown["references"]) == {"aihwkit", "gong2018", "lee2011", "zhao2017"}
