"""The ``memr-snn`` command line: run networks, benchmark, report the installation.

Examples
--------
::

    memr-snn run cuba --duration 1 --seed 1 --out results/
    memr-snn run cuba --n 400 --duration 0.1 --json --out results/ > summary.json
    memr-snn run coba --n 16000 --engine dense --out results/
    memr-snn run my_network.msnn --duration 0.5 --out results/ --save-state after.msnn
    memr-snn run cuba --device hfox_rram --program verify --age 3600 --out results/
    memr-snn map --profile loihi1 --network cuba --n 4000 --out mapping/
    memr-snn map --profile loihi2 --network cuba --rates-from-run 0.5
    memr-snn devices list
    memr-snn devices show pcm_gst
    memr-snn devices iv vteam --out iv.png
    memr-snn experiment sma --brian2
    memr-snn experiment digits-bptt --seeds 0 1 2 --device hfox_rram --out digits_output/
    memr-snn experiment eprop --seeds 0 --json
    memr-snn export --to nir --network cuba --n 400 --lossy --out cuba.nir
    memr-snn bench --quick
    memr-snn bench dvs-digits --seeds 0 1 2 --device hfox_rram --out results/
    memr-snn info
    memr-snn info --json
    memr-snn pipeline run hybrid-tracking --seeds 0 1 2 --out pipeline_output/
    memr-snn export --to lava --network my_network.msnn --out net_lava.npz --lava-steps 1000 --lava-run

Errors
------
Every failure ends with one line ``memr-snn: error: ...`` on stderr and a non-zero
exit status (:data:`EXIT_CODES`): 2 for a refused command line or input (argparse's
usage errors, invalid values, unusable output paths), 1 for a failure while working
(file system, memory, numerical divergence, anything unexpected) and 130 when
interrupted (Ctrl-C).  Output paths (``--out``, ``--save-state``) and the memory of
built-in networks are checked before anything is built or simulated.  ``memr-snn
--debug COMMAND ...`` shows the full traceback instead.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from .._extras import MissingExtraError

# The command line is split by job: _common (exit codes, output paths, built-in network arguments),
# parser (build_parser), and one cmd_* module per subcommand.  Every name the single module cli.py had
# stays importable from here; _dispatch looks the commands up in this namespace (tests replace
# cli._cmd_info).
from ._common import (  # noqa: F401
    EXIT_CODES,
    OutputPathError,
    _check_builtin_size,
    _kind,
    _network_from_arg,
    _probe_writable,
    check_output_path,
)
from .cmd_aimc import _cmd_aimc
from .cmd_bci import _cmd_bci
from .cmd_bench import _SENSORY_FLAGS, _SPEED_FLAGS, _cmd_bench, _cmd_bench_task  # noqa: F401
from .cmd_devices import _cmd_devices, _cmd_iv  # noqa: F401
from .cmd_experiment import _cmd_experiment, _option_value  # noqa: F401
from .cmd_export import EXPORTERS, _add_export_parser, _cmd_export, _export_lava, _export_nir  # noqa: F401
from .cmd_info import _cmd_info
from .cmd_map import _cmd_map
from .cmd_pipeline import _cmd_pipeline
from .cmd_run import _RUN_FILES, _cmd_run, _device_outputs, _load_network, _plots, _print_summary  # noqa: F401
from .cmd_sweep import _cmd_sweep
from .parser import _EPILOG, build_parser  # noqa: F401

__all__ = ["main", "build_parser", "check_output_path", "OutputPathError", "EXIT_CODES"]


def _one_line(exc: BaseException, limit: int = 600) -> str:
    """``exc``'s message on one line (numba's and numpy's can span many), shortened to ``limit`` characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _error(message: str) -> None:
    print(f"memr-snn: error: {message}", file=sys.stderr)


def _dispatch(args) -> int:
    commands = {"run": _cmd_run, "info": _cmd_info, "bench": _cmd_bench, "devices": _cmd_devices,
                "experiment": _cmd_experiment, "export": _cmd_export, "map": _cmd_map, "sweep": _cmd_sweep,
                "aimc": _cmd_aimc, "bci": _cmd_bci, "pipeline": _cmd_pipeline}
    return commands[args.command](args)


def main(argv: list[str] | None = None) -> int:
    """Run the ``memr-snn`` command line; returns the exit status (:data:`EXIT_CODES`).

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success; 2 for a refused command line or input (``ValueError``, ``TypeError``,
        an unusable output path); 1 for a failure while working (a missing optional package, ``OSError``,
        ``MemoryError``, ``RecursionError``, a numerical divergence, any other exception);
        130 when interrupted.  Each failure prints one line ``memr-snn: error: ...`` on
        stderr; with ``--debug`` the exception propagates with its traceback instead.
        argparse's usage errors and some refusals exit through ``SystemExit`` (2 and 1).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_CODES["usage"]
    if args.debug:
        return _dispatch(args)
    hint = " (rerun with 'memr-snn --debug ...' for the traceback)"
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_CODES["interrupted"]
    except np.linalg.LinAlgError as exc:  # a ValueError, but a numerical failure, not a refused input
        _error(f"LinAlgError: {_one_line(exc)}")
        return EXIT_CODES["failure"]
    except MissingExtraError as exc:  # an optional package is missing: its one line names the pip command
        _error(_one_line(exc))
        return EXIT_CODES["failure"]
    except (ValueError, TypeError) as exc:
        _error(_one_line(exc))
        return EXIT_CODES["usage"]
    except MemoryError as exc:
        _error(_one_line(exc) if str(exc) else "out of memory")
        return EXIT_CODES["failure"]
    except FloatingPointError as exc:
        _error(_one_line(exc))
        return EXIT_CODES["failure"]
    except RecursionError as exc:
        _error(f"input nested too deeply to process ({_one_line(exc)}); a JSON or network file with thousands "
               f"of nested levels is refused" + hint)
        return EXIT_CODES["failure"]
    except BrokenPipeError:  # e.g. 'memr-snn devices list | head -1': stop quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_CODES["failure"]
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename is not None else ""
        reason = exc.strerror or _one_line(exc)
        _error(f"{reason}{where}")
        return EXIT_CODES["failure"]
    except Exception as exc:  # noqa: BLE001 - numba/numpy/h5py errors: one line, not a traceback
        _error(f"{type(exc).__name__}: {_one_line(exc)}{hint}")
        return EXIT_CODES["failure"]
