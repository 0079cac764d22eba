"""Closed-loop BCI experiments, installed as ``memr_snn.bci`` (filled by the BCI work)."""

from memr_snn._tree import check_same_tree as _check_same_tree

_check_same_tree(__file__, "bci")

__all__: list[str] = []
