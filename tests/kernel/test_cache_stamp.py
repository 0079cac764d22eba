"""Importing memr_snn.kernel never deletes files; clear_stale_cache does, explicitly."""

import importlib
import warnings

import memr_snn.kernel as K


def test_import_deletes_nothing_and_warns_on_a_stale_cache(tmp_path, monkeypatch):
    here = tmp_path / "kernel"
    (here / "__pycache__").mkdir(parents=True)
    (here / "a.py").write_text("x = 1\n")
    cached = here / "__pycache__" / "a.f-1.py311.nbi"
    cached.write_bytes(b"compiled")
    monkeypatch.setattr(K, "_HERE", here)
    assert K.cache_is_stale()  # cached code, no stamp
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        K._check_cache()
    assert cached.exists() and any("clear_stale_cache" in str(x.message) for x in w)
    assert K.clear_stale_cache() is True and not cached.exists()
    assert not K.cache_is_stale()
    cached.write_bytes(b"compiled")  # compiled from the stamped sources: fine
    assert not K.cache_is_stale() and K.clear_stale_cache() is False and cached.exists()
    (here / "a.py").write_text("x = 2\n")  # a source changes
    assert K.cache_is_stale()


def test_fresh_cache_is_stamped_on_import(tmp_path, monkeypatch):
    here = tmp_path / "kernel"
    here.mkdir()
    (here / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(K, "_HERE", here)
    K._check_cache()
    assert (here / "__pycache__" / K._STAMP).read_text() == K._digest()


def test_reimport_keeps_every_file():
    before = sorted(p.name for p in (K._HERE / "__pycache__").iterdir())
    importlib.reload(K)
    assert sorted(p.name for p in (K._HERE / "__pycache__").iterdir()) == before
