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
