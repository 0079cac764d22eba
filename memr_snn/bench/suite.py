"""Running the benchmark suite: cases, cold start, event-driven scaling, the JSON document, and the
``memr-snn bench`` entry point (:func:`main`)."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

from .._json_files import jsonable
from ..io.atomic import write_text
from .launch import _Clock, _short, run_worker
from .networks import _alif_brian2_params
from .peers.models import network_config
from .plan import (
    _BRIAN2_TARGET,
    BIG_NEURONS,
    DT,
    DURATION,
    RUN_TIMEOUT,
    SCALING_DENSE_SIZES,
    SCALING_SIZES,
    SEED,
    TARGETS,
    BenchConfig,
    Case,
    config_from_args,
)
from .report import _fmt_ratio, format_markdown
from .stats import THREADED_SUFFIX, _ratios, _summaries, ratio, summarize

__all__ = ["run_case", "run_cold", "run_scaling", "run_suite", "suite_stages", "command_line", "main"]


def _sample(contender: str, case: Case, rep: int, **fields) -> dict:
    n_spikes = fields.get("n_spikes")
    rate = None if n_spikes is None else n_spikes / (case.n_neurons * case.duration)
    return {"contender": contender, "case": case.key, "repeat": rep, "rate_hz": rate, **fields}


def _run_memr(case: Case, rep: int, cfg: BenchConfig, cold: bool = False, threads: int = 1) -> dict:
    wcfg = {"mode": "memr", "model": case.model, "n_neurons": case.n_neurons, "duration": case.duration,
            "dt": cfg.dt, "seed": cfg.seed, "threads": threads}
    with tempfile.TemporaryDirectory(prefix="memr_snn_numba_cold_") as cache:
        env = {"NUMBA_CACHE_DIR": cache} if cold else None
        _, meta, total, launch = run_worker(wcfg, cfg.timeout, env)
    extra = {k: meta[k] for k in ("import_time", "rebuild_time", "prepare_time", "engine", "synapse_bytes",
                                  "repeat_identical", "worker_time")}
    extra["bytes_per_synapse"] = meta["synapse_bytes"] / max(meta["n_synapses"], 1)
    extra["cold_cache"] = cold
    extra["threads"] = threads
    name = "memr_snn" if threads == 1 else "memr_snn" + THREADED_SUFFIX
    return _sample(name, case, rep, version=meta["version"], build_time=meta["build_time"],
                   first_run_time=meta["first_run_time"], run_time=meta["run_time"], run_cpu=meta.get("run_cpu"),
                   first_result_time=meta["first_result_wall"] - launch, first_result_exact=True,
                   total_time=total, peak_rss=meta["peak_rss"], n_spikes=meta["n_spikes"],
                   n_synapses=meta["n_synapses"], extra=extra)


def _run_peer(name: str, case: Case, rep: int, cfg: BenchConfig, cache_dir: str | None = None) -> dict:
    peer = name.removesuffix(THREADED_SUFFIX)
    threads = 2 if name != peer else 1
    if case.model == "alif":
        return _run_brian2_alif(name, case, rep, cfg)
    from .peers import run_brian2, run_nest

    if peer == "nest":
        r = run_nest(case.model, case.n_neurons, case.duration, seed=cfg.seed, dt=cfg.dt, threads=threads,
                     record_spikes=True, timeout=cfg.timeout)
    else:
        r = run_brian2(case.model, case.n_neurons, case.duration, seed=cfg.seed, dt=cfg.dt,
                       target=_BRIAN2_TARGET[peer], record_spikes=True, cache_dir=cache_dir, timeout=cfg.timeout,
                       threads=threads)
    runtime_target = r.target in ("cython", "numpy")
    # The runtime-target worker runs twice (first run, restore, steady run): its first
    # result came about one steady run before the process ended.
    first_result = r.total_time - r.run_time if runtime_target else r.total_time
    extra = {"import_time": r.import_time, "compile_time": r.compile_time, "threads": r.threads, **r.extra}
    extra["cold_cache"] = cache_dir is not None
    return _sample(name, case, rep, version=r.version, build_time=r.build_time, first_run_time=r.first_run_time,
                   run_time=r.run_time, run_cpu=r.extra.get("run_cpu"), first_result_time=first_result,
                   first_result_exact=not runtime_target,
                   total_time=r.total_time, peak_rss=r.peak_rss, n_spikes=r.n_spikes, n_synapses=r.n_synapses,
                   extra=extra)


def _run_brian2_alif(name: str, case: Case, rep: int, cfg: BenchConfig) -> dict:
    peer = name.removesuffix(THREADED_SUFFIX)
    if peer not in _BRIAN2_TARGET:
        raise ValueError(f"{name} has no ALIF network in this suite")
    n = case.n_neurons
    wcfg = {"mode": "brian2", "target": _BRIAN2_TARGET[peer], **network_config("alif", n, _alif_brian2_params()),
            "duration": case.duration, "dt": cfg.dt, "seed": cfg.seed, "return_spikes": False,
            "threads": 2 if name != peer else 1}
    _, meta, total, launch = run_worker(wcfg, cfg.timeout)
    known = {"version", "build_time", "first_run_time", "run_time", "run_cpu", "first_result_wall", "peak_rss",
             "n_spikes", "n_synapses"}
    return _sample(name, case, rep, version=meta["version"], build_time=meta["build_time"],
                   first_run_time=meta["first_run_time"], run_time=meta["run_time"], run_cpu=meta.get("run_cpu"),
                   first_result_time=meta["first_result_wall"] - launch, first_result_exact=True,
                   total_time=total, peak_rss=meta["peak_rss"], n_spikes=meta["n_spikes"],
                   n_synapses=meta["n_synapses"], extra={k: v for k, v in meta.items() if k not in known})


def _contenders_for(model: str, contenders, n_neurons: int = BIG_NEURONS) -> tuple[list[str], dict[str, str]]:
    out, skipped = [], {}
    for c in contenders:
        if c.endswith(THREADED_SUFFIX) and n_neurons < BIG_NEURONS:
            skipped[c] = f"two-thread contenders run at N >= {BIG_NEURONS} only (where threads pay)"
        elif model == "alif" and c.removesuffix(THREADED_SUFFIX) == "nest":
            skipped[c] = ("no NEST model has this adaptive threshold on iaf_psc_exp dynamics "
                          "(amat2_psc_exp does not reset V_m)")
        else:
            out.append(c)
    return out, skipped


def _run_one(contender: str, case: Case, rep: int, cfg: BenchConfig) -> dict:
    if contender == "memr_snn":
        return _run_memr(case, rep, cfg)
    if contender == "memr_snn" + THREADED_SUFFIX:
        return _run_memr(case, rep, cfg, threads=2)
    return _run_peer(contender, case, rep, cfg)


def _warm_cython(case: Case, cfg: BenchConfig, log) -> None:
    """One short unmeasured Brian2 run at this N, so the Cython cache holds this case's code."""
    warm = Case(case.model, case.n_neurons, 20 * cfg.dt, 1)
    log(f"{case.key}: warming Brian2's Cython cache (unmeasured run of {warm.duration * 1e3:g} ms)")
    _run_peer("brian2-cython", warm, -1, cfg)


def run_case(case: Case, cfg: BenchConfig, log, disabled: dict, ran: set) -> dict:
    """Run every contender ``case.repeats`` times, alternating; returns the case record.

    ``disabled`` (contender -> reason) and ``ran`` (contenders that succeeded at least
    once) carry across cases: a peer that fails before it ever succeeded is disabled.
    """
    contenders, skipped = _contenders_for(case.model, cfg.contenders, case.n_neurons)
    contenders = [c for c in contenders if c not in disabled]
    failures = []
    if "brian2-cython" in contenders and not cfg.quick:
        try:
            _warm_cython(case, cfg, log)
        except Exception as exc:  # noqa: BLE001 - a failing peer must not stop the suite
            failures.append({"contender": "brian2-cython", "repeat": -1, "error": _short(exc)})
            log(f"{case.key}: brian2-cython warm-up FAILED, skipping it for this case: {_short(exc)}")
            contenders.remove("brian2-cython")
            _disable_if_never_ran(disabled, ran, "brian2-cython", exc)
    samples = []
    dropped: set[str] = set()
    k = len(contenders)
    for rep in range(case.repeats):
        order = contenders[rep % k:] + contenders[: rep % k] if k else []
        for c in order:
            if c in dropped:
                continue
            log(f"{case.key} repeat {rep + 1}/{case.repeats}: {c} ...")
            t0 = time.perf_counter()
            try:
                s = _run_one(c, case, rep, cfg)
            except Exception as exc:  # noqa: BLE001 - a failing peer must not stop the suite
                failures.append({"contender": c, "repeat": rep, "error": _short(exc)})
                log(f"{case.key} repeat {rep + 1}/{case.repeats}: {c} FAILED ({_short(exc)}); skipped for this case")
                dropped.add(c)
                _disable_if_never_ran(disabled, ran, c, exc)
                continue
            samples.append(s)
            ran.add(c)
            log(f"{case.key} repeat {rep + 1}/{case.repeats}: {c} steady {s['run_time']:.3f} s, first result "
                f"{s['first_result_time']:.2f} s, {s['n_spikes']} spikes ({time.perf_counter() - t0:.1f} s)")
    summ = _summaries(samples)
    return {"model": case.model, "n_neurons": case.n_neurons, "duration": case.duration, "repeats": case.repeats,
            "key": case.key, "contenders": contenders, "skipped": skipped, "failures": failures,
            "samples": samples, "summary": summ, "ratios": _ratios(summ)}


def _disable_if_never_ran(disabled: dict, ran: set, contender: str, exc: Exception) -> None:
    """A contender that fails before ever succeeding is broken here: stop trying it."""
    if contender not in ran and contender != "memr_snn":
        disabled[contender] = f"failed on its first run: {_short(exc)}"


def run_cold(cfg: BenchConfig, cases: list[dict], log) -> dict | None:
    """First result with empty caches: memr_snn (fresh ``NUMBA_CACHE_DIR``) and Brian2 cython."""
    if cfg.cold_repeats < 1:
        return None
    small = [c for c in cfg.cases if c.model == "cuba" and c.duration == DURATION]
    if not small:
        small = [c for c in cfg.cases if c.duration == DURATION] or list(cfg.cases)
    if not small:
        return None
    base = min(small, key=lambda c: c.n_neurons)
    case = Case(base.model, base.n_neurons, base.duration, cfg.cold_repeats)
    contenders = ["memr_snn"] + [c for c in ("brian2-cython",) if c in cfg.contenders]
    samples, failures = [], []
    for rep in range(case.repeats):
        order = contenders[rep % len(contenders):] + contenders[: rep % len(contenders)]
        for c in order:
            log(f"cold start {case.key} repeat {rep + 1}/{case.repeats}: {c} with an empty cache ...")
            try:
                if c == "memr_snn":
                    s = _run_memr(case, rep, cfg, cold=True)
                else:
                    with tempfile.TemporaryDirectory(prefix="memr_snn_cython_cold_") as cache:
                        s = _run_peer(c, case, rep, cfg, cache_dir=cache)
            except Exception as exc:  # noqa: BLE001
                failures.append({"contender": c, "repeat": rep, "error": _short(exc)})
                log(f"cold start: {c} FAILED ({_short(exc)})")
                continue
            samples.append(s)
            log(f"cold start {case.key}: {c} first run {s['first_run_time']:.2f} s, first result "
                f"{s['first_result_time']:.2f} s")
    summ = _summaries(samples)
    warm = next((c for c in cases if c["key"] == case.key), None)
    warm_summ = warm["summary"] if warm else {}
    cpp = warm_summ.get("brian2-cpp")
    return {"key": case.key, "model": case.model, "n_neurons": case.n_neurons, "duration": case.duration,
            "repeats": case.repeats, "samples": samples, "failures": failures, "summary": summ,
            "warm_summary": {c: warm_summ[c] for c in contenders if c in warm_summ},
            "brian2_cpp_first_result": None if cpp is None else cpp["first_result_time"],
            "ratios_vs_brian2_cpp": {c: ratio(s["first_result_time"], None if cpp is None else cpp["first_result_time"])
                                     for c, s in summ.items()}}


def run_scaling(sizes=SCALING_SIZES, dense_sizes=SCALING_DENSE_SIZES, duration: float = 1.0, repeats: int = 3,
                dt: float = DT, seed: int = SEED, warmup: float = 0.01, timeout: float = RUN_TIMEOUT,
                log=None) -> dict:
    """The event-driven scaling experiment (:func:`scaling_network`) in one fresh process.

    Sizes and engines are interleaved and their order rotated between repeats; each run is
    timed after a short warm-up run (``warmup`` seconds, before the first input spike)
    that builds the engine arrays and lets every neuron go idle.

    Returns
    -------
    dict
        ``runs`` (every measurement), ``event`` / ``dense`` (size -> summary of run time),
        ``event_growth`` (median at the largest over the smallest event size) and the input.
    """
    log = log or _Clock()
    wcfg = {"mode": "scaling", "sizes": [int(n) for n in sizes], "dense_sizes": [int(n) for n in dense_sizes],
            "duration": float(duration), "warmup": float(warmup), "repeats": int(repeats), "dt": float(dt),
            "seed": int(seed)}
    log(f"event-driven scaling: {', '.join(map(str, sizes))} neurons (event), "
        f"{', '.join(map(str, dense_sizes))} (dense), {repeats} repeat(s), one fresh process")
    _, meta, total, _ = run_worker(wcfg, timeout)
    runs = meta["runs"]
    res: dict = {"sizes": list(sizes), "dense_sizes": list(dense_sizes), "duration": duration, "repeats": repeats,
                 "warmup": warmup, "runs": runs, "process_time": total, "peak_rss": meta["peak_rss"]}
    for engine, ns in (("event", sizes), ("dense", dense_sizes)):
        res[engine] = {str(n): summarize([r["run_time"] for r in runs if r["engine"] == engine
                                          and r["n_neurons"] == n]) for n in ns}
    res["idle_spikes"] = int(sum(r["idle_spikes"] for r in runs))
    if runs:
        res["input_spikes"] = runs[0]["input_spikes"]
        res["synaptic_events"] = runs[0]["synaptic_events"]
        res["targets"] = runs[0]["targets"]
    res["event_growth"] = ratio(res["event"].get(str(max(sizes))), res["event"].get(str(min(sizes)))) if sizes else None
    res["dense_growth"] = (ratio(res["dense"].get(str(max(dense_sizes))), res["dense"].get(str(min(dense_sizes))))
                           if dense_sizes else None)
    log(f"event-driven scaling done: growth {min(sizes)} -> {max(sizes)} neurons = "
        f"{_fmt_ratio(res['event_growth'])}x ({total:.1f} s)")
    return res


def _versions(cases: list[dict]) -> dict:
    import platform

    from .. import __version__

    out = {"memr_snn": __version__, "python": platform.python_version()}
    for mod in ("numpy", "numba", "scipy"):
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:  # pragma: no cover
            out[mod] = None
    for case in cases:
        for c, s in case["summary"].items():
            if c != "memr_snn":
                out.setdefault("brian2" if c.startswith("brian2") else c, s["version"])
    return out


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or None


def suite_stages(cfg: BenchConfig) -> int:
    """Stages of :func:`run_suite` (the units of its ``bar``): the numba warm-up, each case, the cold start and,
    when configured, the event-driven scaling."""
    return 2 + len(cfg.cases) + (1 if cfg.scaling_sizes else 0)


def run_suite(cfg: BenchConfig, out: Path | None = None, command: str = "", log=None, bar=None) -> dict:
    """Run every case, the cold-start and the scaling measurements; returns the JSON document.

    When ``out`` is given, ``bench.json`` is rewritten after every case (``complete`` is
    false until the end), so a long run that is interrupted keeps what it measured.
    ``log(message)`` reports each run (default: lines on stderr); ``bar``, if given, gets
    ``bar.update()`` after each of the :func:`suite_stages` stages.
    """
    from ..info import collect_info

    log = log or _Clock()
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.perf_counter()
    doc: dict = {
        "command": command, "argv": list(sys.argv), "started": started.isoformat(timespec="seconds"),
        "complete": False, "quick": cfg.quick, "machine": collect_info(), "cpu_model": _cpu_model(),
        "config": jsonable(dataclasses.asdict(cfg)), "targets": TARGETS, "notes": list(cfg.notes),
        "skipped": dict(cfg.skipped), "disabled": {}, "cases": [], "cold": None, "scaling": None,
    }
    for note in cfg.notes:
        log(f"note: {note}")

    def save():
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            write_text(out / "bench.json", json.dumps(jsonable(doc), indent=1))

    models = list(dict.fromkeys(c.model for c in cfg.cases))
    log(f"{len(cfg.cases)} cases, contenders: {', '.join(cfg.contenders)}; warming numba's cache for "
        f"{', '.join(models)}")
    try:
        run_worker({"mode": "warmup", "models": models, "dt": cfg.dt}, cfg.timeout)
    except Exception as exc:  # noqa: BLE001 - the runs below report the real error
        log(f"numba warm-up failed: {_short(exc)}")
    step = bar.update if bar is not None else (lambda: None)
    step()
    disabled, ran = doc["disabled"], set()
    for case in cfg.cases:
        log(f"case {case.key}: {case.repeats} repeat(s)")
        doc["cases"].append(run_case(case, cfg, log, disabled, ran))
        save()
        step()
    try:
        doc["cold"] = run_cold(cfg, doc["cases"], log)
    except Exception as exc:  # noqa: BLE001
        doc["cold"] = {"error": _short(exc)}
    save()
    step()
    if cfg.scaling_sizes:
        try:
            doc["scaling"] = run_scaling(cfg.scaling_sizes, cfg.scaling_dense_sizes, cfg.scaling_duration,
                                         cfg.scaling_repeats, cfg.dt, cfg.seed, timeout=cfg.timeout, log=log)
        except Exception as exc:  # noqa: BLE001
            log(f"event-driven scaling FAILED: {_short(exc)}")
            doc["scaling"] = {"error": _short(exc)}
        step()
    for c, why in disabled.items():
        doc["notes"].append(f"{c} disabled after failing: {why}")
    doc["versions"] = _versions(doc["cases"])
    doc["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    doc["wall_time"] = time.perf_counter() - t0
    doc["complete"] = True
    save()
    return doc


def command_line(argv: list[str] | None = None) -> str:
    """The command as a user would type it (``memr-snn bench ...``), without this machine's paths."""
    argv = list(sys.argv if argv is None else argv)
    prog = os.path.basename(argv[0]) if argv else "memr-snn"
    if prog == "__main__.py":
        prog = "python -m memr_snn"
    elif prog == "run_all.py":
        prog = "python benchmarks/run_all.py"
    elif prog in ("memr-snn", "cli.py"):
        prog = "memr-snn"
    return " ".join([prog] + [shlex.quote(a) for a in argv[1:]])


def main(args) -> int:
    """Run the suite for parsed ``memr-snn bench`` arguments; print and write the report.

    Writes ``<out>/bench.md`` (the markdown report) and ``<out>/bench.json`` (every
    measurement, the machine info, versions and the command line).  Prints the markdown, or
    with ``args.json`` the JSON document.  Progress (``args.progress``: None, True or False, as
    ``--progress/--no-progress``) goes to stderr: a bar over the stages with one line per run
    above it on a terminal, plain lines otherwise, nothing with False.  Returns 0.
    """
    from ..progress import ProgressBar

    cfg = config_from_args(args)
    out = Path(getattr(args, "out", None) or "bench_output")
    progress = getattr(args, "progress", None)
    with ProgressBar(suite_stages(cfg), desc="bench", enabled=progress is not False) as bar:
        log = _Clock(write=bar.write) if bar.enabled else (lambda msg: None)
        doc = run_suite(cfg, out=out, command=command_line(), log=log, bar=bar)
    md = format_markdown(doc)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "bench.md", md)
    if getattr(args, "json", False):
        print(json.dumps(jsonable(doc), indent=2))
    else:
        print(md)
    print(f"wrote {out / 'bench.md'} and {out / 'bench.json'}", file=sys.stderr)
    return 0
