"""Spike encoders, installed as ``memr_snn.encoders`` (filled by the sensory front-end work)."""

__all__: list[str] = []

# --- audio (cochlear front end) ---
from .audio import CochleaParams, WavFormatError, cochlea_encode, cochleagram, erb, erb_space, load_wav  # noqa: E402

__all__ += ["CochleaParams", "WavFormatError", "cochlea_encode", "cochleagram", "erb", "erb_space", "load_wav"]
