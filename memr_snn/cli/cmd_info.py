"""``memr-snn info``: versions, threading, memory and optional extras."""

from __future__ import annotations


def _cmd_info(args) -> int:
    from ..info import collect_info, format_info

    print(format_info(collect_info()))
    return 0
