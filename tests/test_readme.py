"""The README's quickstart runs as written."""

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_quickstart_runs(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    text = README.read_text()
    start = text.index("```python\n") + len("```python\n")
    code = text[start:text.index("```", start)]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    spikes = namespace["spikes"]
    assert spikes.num_spikes > 1000  # the example network is active (about 12 Hz)
    assert (tmp_path / "net.msnn").exists()


def _documented_commands():
    """``(file, line, argv)`` of every ``memr-snn ...`` command in the fenced code blocks of the README and
    docs/*.md, without its comment and output redirection."""
    import shlex

    root = README.parent
    for path in [README, *sorted((root / "docs").glob("*.md"))]:
        fenced = False
        for k, line in enumerate(path.read_text().splitlines(), 1):
            if line.startswith("```"):
                fenced = not fenced
                continue
            text = line.strip().removeprefix("$ ")
            if not fenced or not (text.startswith("memr-snn ") or text.startswith("python -m memr_snn ")):
                continue
            words = shlex.split(text, comments=True)
            words = words[:words.index(">")] if ">" in words else words
            yield f"{path.name}:{k}", words[1:] if words[0] == "memr-snn" else words[3:]


def test_documented_commands_parse(monkeypatch):
    """Every command the README and the guides show is accepted by today's command line (options, choices,
    experiment options); tests/test_cli*.py and the README audit run them."""
    import argparse

    import pytest

    from memr_snn.cli import build_parser
    from memr_snn.cli_experiments import EXPERIMENTS

    commands = list(_documented_commands())
    assert len(commands) > 30, commands
    real_parse = argparse.ArgumentParser.parse_args
    for where, argv in commands:
        args = build_parser().parse_args(argv)  # argparse exits (status 2) on an unknown option or choice
        if args.command == "experiment":
            caught = {}

            def catch(self, a=None, namespace=None, _caught=caught):
                _caught["parser"] = self
                raise SystemExit(0)

            monkeypatch.setattr(argparse.ArgumentParser, "parse_args", catch)
            with pytest.raises(SystemExit):
                EXPERIMENTS[args.name][0](args.options)
            monkeypatch.setattr(argparse.ArgumentParser, "parse_args", real_parse)
            real_parse(caught["parser"], args.options)
        assert args.command, where
