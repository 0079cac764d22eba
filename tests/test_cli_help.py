"""One CLI grammar: every subcommand's and every experiment's ``--help`` names the command, shows defaults and
an example; the shared option names (``--n``, ``--seeds``, ``--out``, ``--json``) work where they apply."""

import argparse
import json

import pytest
from memr_snn.networks import BUILTIN

from memr_snn.cli import build_parser, main
from memr_snn.cli_experiments import EXPERIMENTS


def _subcommands(parser: argparse.ArgumentParser, path=()):
    """``(("run",), parser), (("devices", "iv"), parser), ...``: every subparser, found from the parser itself."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from _subcommands(sub, (*path, name))


SUBCOMMANDS = dict(_subcommands(build_parser()))


def _has_defaults(parser: argparse.ArgumentParser) -> bool:
    """An option with a real default (not None, False or suppressed)."""
    return any(a.option_strings and a.default not in (None, False, argparse.SUPPRESS) and a.dest != "help"
               for a in parser._actions)


def _check_help(text: str, command: str, parser: argparse.ArgumentParser) -> None:
    assert text.startswith(f"usage: {command} "), text[:200]
    if _has_defaults(parser):
        assert "(default" in text, text
    assert "example:" in text or "examples:" in text, text
    assert "module docstring" not in text


def test_the_walk_finds_every_subcommand():
    assert {"run", "bench", "map", "devices", "experiment", "export", "info"} <= {p[0] for p in SUBCOMMANDS}
    assert {("devices", "list"), ("devices", "show"), ("devices", "iv")} <= set(SUBCOMMANDS)


@pytest.mark.parametrize("path", sorted(SUBCOMMANDS), ids=" ".join)
def test_every_subcommand_help(path, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*path, "--help"])
    assert exc.value.code == 0
    _check_help(capsys.readouterr().out, "memr-snn " + " ".join(path), SUBCOMMANDS[path])


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_experiment_help(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["experiment", name, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: memr-snn experiment {name} "), text[:200]
    assert "(default" in text and ("example:" in text or "examples:" in text), text
    assert "module docstring" not in text
    for option in ("--out", "--json"):  # every experiment writes its results and can print them as JSON
        assert option in text, (name, option)


def test_top_level_help_has_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "example" in capsys.readouterr().out


def test_builtin_networks_come_from_the_registry(capsys):
    for cmd in (["run"], ["map"], ["export"]):
        with pytest.raises(SystemExit):
            main([*cmd, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert ", ".join(BUILTIN) in text, (cmd, text)
    assert "alif" in BUILTIN


def test_map_takes_n_and_the_old_n_neurons(tmp_path, capsys):
    assert main(["map", "--profile", "loihi1", "--network", "cuba", "--n", "200", "--no-plots",
                 "--out", str(tmp_path / "a")]) == 0
    a = json.loads((tmp_path / "a" / "mapping.json").read_text())
    assert a["network"]["neurons"] == 200
    assert main(["map", "--profile", "loihi1", "--network", "cuba", "--n-neurons", "200", "--no-plots",
                 "--out", str(tmp_path / "b")]) == 0  # the old spelling still works ...
    assert json.loads((tmp_path / "b" / "mapping.json").read_text())["network"]["neurons"] == 200
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["map", "--help"])
    assert "--n-neurons" not in capsys.readouterr().out  # ... but is no longer advertised
    assert main(["map", "--profile", "loihi1", "--n", "3", "--out", str(tmp_path / "c")]) == 2
    assert "--n must be >= 5" in capsys.readouterr().err


def test_export_hides_the_old_n_neurons(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    out = capsys.readouterr().out
    assert "--n N" in out and "--n-neurons" not in out


def test_experiment_eprop_writes_results_under_out(tmp_path, capsys):
    out = tmp_path / "ep"
    assert main(["experiment", "eprop", "--seeds", "0", "--n-rec", "10", "--n-train", "32", "--epochs", "1",
                 "--delay", "20", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "| seed" in captured.out and "test accuracy" in captured.out  # a table, not JSON lines
    res = json.loads((out / "results.json").read_text())
    assert res["experiment"] == "eprop" and res["seeds"] == [0] and len(res["per_seed"]) == 1
    assert res["settings"]["n_rec"] == 10
    md = (out / "results.md").read_text()
    assert md.startswith("# ") and "| seed" in md
    assert (out / "accuracy.png").stat().st_size > 1000


def test_experiment_json_prints_one_document(tmp_path, capsys):
    out = tmp_path / "dg"
    assert main(["experiment", "digits-bptt", "--seeds", "0", "--epochs", "1", "--hidden", "8", "--T", "5",
                 "--no-plots", "--json", "--out", str(out)]) == 0
    doc = json.loads(capsys.readouterr().out)  # the whole of stdout is one JSON document
    assert doc["experiment"] == "digits-bptt" and 0 <= doc["float_mean"] <= 1
    assert doc == json.loads((out / "results.json").read_text())
    assert not (out / "accuracy.png").exists()


def test_experiment_out_checked_before_any_work(tmp_path, capsys, monkeypatch):
    import memr_snn.learning.eprop as eprop

    monkeypatch.setattr(eprop, "train_eprop_task", lambda *a, **k: pytest.fail("trained before checking --out"))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["experiment", "eprop", "--out", str(blocker)]) == 2
    assert "--out" in capsys.readouterr().err


def _experiment_parsers(monkeypatch) -> dict[str, argparse.ArgumentParser]:
    """Every experiment's parser, caught when the experiment parses its (empty) command line."""
    caught = {}

    def catch(self, args=None, namespace=None):
        caught[self.prog.split()[-1]] = self
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", catch)
    for run, _ in EXPERIMENTS.values():
        with pytest.raises(SystemExit):
            run([])
    monkeypatch.undo()
    return caught


def _all_parsers(monkeypatch) -> dict[str, argparse.ArgumentParser]:
    return {**{" ".join(k): p for k, p in SUBCOMMANDS.items()},
            **{f"experiment {k}": p for k, p in _experiment_parsers(monkeypatch).items()}}


def test_every_option_that_takes_a_value_names_its_default(monkeypatch):
    """Not only '(default' somewhere: each option with a value, unless required, says what happens without it."""
    from memr_snn.cli._common import HelpFormatter

    formatter = HelpFormatter("memr-snn")
    missing = []
    for command, parser in _all_parsers(monkeypatch).items():
        for action in parser._actions:
            if (not action.option_strings or action.nargs == 0 or action.required
                    or action.help in (None, argparse.SUPPRESS)):
                continue  # positionals, flags, required options, hidden aliases
            if "default" not in formatter._get_help_string(action).lower():
                missing.append(f"{command} {action.option_strings[0]}")
    assert not missing, missing


#: one name per concept: the spelling every command uses, and spellings that must not be advertised
SHARED = {"--n": "number of neurons", "--seed": "one seed", "--seeds": "several seeds", "--out": "output",
          "--device": "device preset", "--json": "JSON on stdout", "--progress": "progress"}
STRAGGLERS = ("--n-neurons", "--preset", "--output", "--seed-list", "--outdir", "--out-dir", "--quiet",
              "--show-progress", "--as-json")


def test_shared_option_names(monkeypatch):
    parsers = _all_parsers(monkeypatch)
    for command, parser in parsers.items():
        shown = {o for a in parser._actions if a.help != argparse.SUPPRESS for o in a.option_strings}
        assert not shown & set(STRAGGLERS), (command, shown & set(STRAGGLERS))
        assert ("--progress" in shown) == ("--no-progress" in shown), command
        if "--seed" in shown and "--seeds" in shown:
            pytest.fail(f"{command} takes both --seed and --seeds")
    printing = ["run", "map", "bench", "info", "export", "devices list", "devices iv"]
    printing += [f"experiment {k}" for k in EXPERIMENTS]
    for command in printing:  # every command that prints results can print them as JSON
        assert any("--json" in a.option_strings for a in parsers[command]._actions), command
    long_work = ["run", "map", "bench"] + [f"experiment {k}" for k in EXPERIMENTS]
    for command in long_work:  # and every command that can work for minutes reports progress, switchably
        assert any("--no-progress" in a.option_strings for a in parsers[command]._actions), command
    assert set(SHARED) <= {o for p in parsers.values() for a in p._actions for o in a.option_strings}


def test_old_preset_spelling_still_works_but_is_hidden(capsys):
    args = build_parser().parse_args(["bench", "digits", "--preset", "ideal"])
    assert args.preset == "ideal"
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    assert "--preset" not in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["experiment", "digits-bptt", "--help"])
    assert "--preset" not in capsys.readouterr().out
