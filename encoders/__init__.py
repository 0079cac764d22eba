"""Spike encoders, installed as ``memr_snn.encoders`` (filled by the sensory front-end work)."""

__all__: list[str] = []
