"""Closed-loop BCI experiments, installed as ``memr_snn.bci`` (filled by the BCI work)."""

__all__: list[str] = []
