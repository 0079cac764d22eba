"""``memr-snn experiment``: run a reference learning experiment (``memr_snn.cli.experiments``)."""

from __future__ import annotations

from collections.abc import Sequence


def _option_value(argv: Sequence[str], option: str) -> str | None:
    """The last value of ``option`` (``--out X`` or ``--out=X``) in ``argv``, else None."""
    value = None
    for k, arg in enumerate(argv):
        if arg == option and k + 1 < len(argv):
            value = argv[k + 1]
        elif arg.startswith(option + "="):
            value = arg[len(option) + 1:]
    return value


def _cmd_experiment(args) -> int:
    from .experiments import run_experiment

    # each experiment parses its own options and checks its --out (default included) before any work
    run_experiment(args.name, args.options)
    return 0
