"""``memr-snn bench``: the simulator speed benchmark (no TASK) or a sensory classification benchmark (TASK)."""

from __future__ import annotations

import json

from ._common import _check_builtin_size, check_output_path, note, print_json

_SENSORY_FLAGS = ("seeds", "epochs", "hidden", "lr", "batch_size", "recurrent", "preset", "device_seeds",
                  "read_noise", "baseline_bins")
_SPEED_FLAGS = ("sizes", "models", "peers")
_FLAG_NAMES = {"preset": "device"}  # dest -> option name (--device, old name --preset)


def _cmd_bench(args) -> int:
    check_output_path(args.out, "dir", files=("bench.json", "bench.md", "results.json", "results.md"))
    if args.task is None:
        for n in args.sizes or ():
            for model in args.models or ("cuba", "coba", "alif"):
                if model in ("cuba", "coba", "alif") and n >= 5:
                    _check_builtin_size(model, n, "--sizes")
        given = [f"--{_FLAG_NAMES.get(n, n).replace('_', '-')}" for n in _SENSORY_FLAGS
                 if getattr(args, n, None) is not None]
        if given:
            raise ValueError(f"{', '.join(given)} need a sensory TASK (e.g. 'memr-snn bench dvs-digits'); "
                             "the simulator speed benchmark does not use them")
        from ..bench import main as bench_main

        return bench_main(args)
    return _cmd_bench_task(args)


def _cmd_bench_task(args) -> int:
    from ..bench import command_line
    from ..learning.sensory import get_task, run_task, write_results

    given = [f"--{n}" for n in _SPEED_FLAGS if getattr(args, n, None) is not None]
    if given:
        raise ValueError(f"{', '.join(given)} apply to the simulator speed benchmark only (no TASK)")
    get_task(args.task)  # unknown task: a clear error before anything runs
    settings = {n: getattr(args, n) for n in _SENSORY_FLAGS}
    result = run_task(args.task, quick=args.quick, progress=getattr(args, "progress", None), **settings)
    j, m = write_results(result, args.out, command=command_line())
    if getattr(args, "json", False):
        print_json(json.loads(j.read_text()))  # the document of results.json
    else:
        print(result.format())
    note(f"wrote {j} and {m}")
    return 0
