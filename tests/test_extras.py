"""Optional extras: memr_snn._extras.require, MissingExtraError and every place that imports an optional package."""

import pickle
import re
import sys
from pathlib import Path

import pytest

from memr_snn._extras import EXTRAS, MissingExtraError, install_command, require

ROOT = Path(__file__).resolve().parents[1]


def block(monkeypatch, *modules):
    """Make ``import module`` fail as if it were not installed (a ``None`` in ``sys.modules``)."""
    for name in modules:
        for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            monkeypatch.delitem(sys.modules, loaded)
        monkeypatch.setitem(sys.modules, name, None)


def check_one_line(exc: MissingExtraError, extra: str) -> None:
    text = str(exc)
    assert "\n" not in text and text == " ".join(text.split())
    assert text.endswith(f"pip install 'memr_snn[{extra}]'")
    assert "not installed" in text
    assert exc.extra == extra and isinstance(exc, ImportError)


CASES = [(extra, module) for extra, (_, modules) in EXTRAS.items() for module in modules]


@pytest.mark.parametrize(("extra", "module"), CASES)
def test_require_raises_one_line_naming_the_extra(monkeypatch, extra, module):
    block(monkeypatch, module)
    with pytest.raises(MissingExtraError) as info:
        require(extra, module + ".sub" if module == "sklearn" else module, "this test")
    check_one_line(info.value, extra)
    assert info.value.name == module
    assert str(info.value).startswith("this test needs ")
    assert EXTRAS[extra][1][module] in str(info.value)  # the distribution to install, e.g. scikit-learn


def test_require_returns_the_module():
    assert require("nir", "json") is sys.modules["json"]  # any importable module comes back as is


def test_installed_but_broken_is_told_apart(monkeypatch):
    with pytest.raises(MissingExtraError, match=r"installed but failed to import .*pip install 'memr_snn\[peers\]'"):
        require("peers", "json.no_such_submodule")
    with pytest.raises(ValueError, match="unknown extra 'nope'"):
        require("nope", "no_such_module_at_all")


def test_error_pickles_with_its_fields(monkeypatch):
    block(monkeypatch, "aedat")
    with pytest.raises(MissingExtraError) as info:
        require("dvs", "aedat")
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is MissingExtraError
    assert (str(again), again.extra, again.module, again.name) == (str(info.value), "dvs", "aedat", "aedat")


def test_extras_table_matches_pyproject_and_readme():
    tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python >= 3.11")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    readme = (ROOT / "README.md").read_text()
    for extra, (_, modules) in EXTRAS.items():
        assert extra in project
        declared = {re.split(r"[<>=!~ \[]", req)[0].lower() for req in project[extra]}  # "dask[distributed]" -> dask
        for module, dist in modules.items():
            assert dist in declared or module == "h5py", (extra, dist)  # h5py comes with nir
    for extra in project:
        assert f"`{install_command(extra)}`" in readme, f"README's table of extras lacks {extra!r}"


# ------------------------------------------------------------------------------ every optional import

def test_datasets_extra_call_sites(monkeypatch):
    from memr_snn.encoders.datasets import dvs_digits
    from memr_snn.networks.diehl_cook import load_digits_split

    from memr_snn.learning.datasets import load_digits_spikes
    from memr_snn.learning.sensory import logistic_baseline

    block(monkeypatch, "sklearn")
    for call in (load_digits_spikes, lambda: logistic_baseline(None), load_digits_split,
                 dvs_digits._load_sklearn_digits):
        with pytest.raises(MissingExtraError) as info:
            call()
        check_one_line(info.value, "datasets")


def test_nir_extra_call_site(monkeypatch):
    from memr_snn.adapters.nir.common import _nir

    block(monkeypatch, "nir")
    with pytest.raises(MissingExtraError, match="^the NIR adapter needs nir") as info:
        _nir()
    check_one_line(info.value, "nir")


def test_control_extra_call_sites(monkeypatch):
    """The plant stage and the gymnasium face of the tracking task need gymnasium; the scene does not."""
    import memr_snn.pipeline.envs as envs
    from memr_snn.pipeline.envs import TrackingScene, make_tracking_env, register_envs
    from memr_snn.pipeline.plant import PlantStage

    block(monkeypatch, "gymnasium")
    monkeypatch.setattr(envs, "_ENV_CLASS", None)
    TrackingScene(width=8, height=8).step([0.0, 0.0])  # works without gymnasium
    for call, what in ((make_tracking_env, "the DVS tracking environment"), (register_envs, "the DVS tracking"),
                       (lambda: PlantStage("p", "CartPole-v1", "c", period=0.02), "a gymnasium plant")):
        with pytest.raises(MissingExtraError, match=f"^{what}") as info:
            call()
        check_one_line(info.value, "control")


def test_dvs_extra_call_site(monkeypatch, tmp_path):
    from memr_snn.encoders.readers import read_aedat4

    block(monkeypatch, "aedat")
    with pytest.raises(MissingExtraError, match="^reading AEDAT 4 files needs aedat") as info:
        read_aedat4(tmp_path / "x.aedat4")
    check_one_line(info.value, "dvs")


def test_speech_extra_error_is_a_missing_extra_error(monkeypatch):
    from memr_snn.encoders.datasets.spoken_digits import EspeakSynthesizer, SpeechExtraMissing

    assert issubclass(SpeechExtraMissing, MissingExtraError) and issubclass(SpeechExtraMissing, ValueError)
    block(monkeypatch, "espeakng_loader")
    with pytest.raises(SpeechExtraMissing) as info:
        EspeakSynthesizer()
    check_one_line(info.value, "speech")
    assert "espeakng-loader (module espeakng_loader)" in str(info.value)


def test_cli_prints_the_one_line_and_exits_1(monkeypatch, tmp_path, capsys):
    from memr_snn.cli import main

    block(monkeypatch, "nir")
    code = main(["export", "--to", "nir", "--network", "cuba", "--n", "40", "--lossy",
                 "--out", str(tmp_path / "x.nir")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("memr-snn: error: ") and err.rstrip().endswith("pip install 'memr_snn[nir]'")
