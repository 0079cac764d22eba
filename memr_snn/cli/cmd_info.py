"""``memr-snn info``: versions, threading, memory and optional extras."""

from __future__ import annotations

from ._common import print_json


def _cmd_info(args) -> int:
    from ..info import collect_info, format_info

    info = collect_info()
    if getattr(args, "json", False):
        print_json(info)
    else:
        print(format_info(info))
    return 0
