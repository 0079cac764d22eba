"""Where the first-ever run's time goes: ``python benchmarks/cold_start.py [--repeats R] [--profile-only]``.

Two parts, each in fresh processes:

1. **Profile** (one process with an empty ``NUMBA_CACHE_DIR``, then one with that cache filled):
   CUBA N = 4000 for 1 s through the API, timing ``import memr_snn``, building the network and the
   first ``run``; every numba dispatcher's ``compile`` is wrapped so that each kernel function's
   own compile time (exclusive of the functions it pulls in), or its cache-load time with the
   warm cache, is listed (with compiling ahead off, ``MEMR_SNN_COMPILE_AHEAD=0``, so that every function
   is compiled in the one profiled process).
2. **Compare** (``--repeats`` rounds, contenders alternated, each a fresh process; medians of wall
   and CPU time, the CPU time of the process and of the children it waited for, e.g. ``make``):
   ``api-cold`` (the API run above with an empty cache; its first run compiles on two cores,
   :mod:`memr_snn.engine.compile_ahead`, when two cores are idle), ``api-cold-1core`` (the same
   with compiling ahead off, ``MEMR_SNN_COMPILE_AHEAD=0``: everything compiled in the one process, as
   before), ``cli-cold``
   (``memr-snn run cuba --n 4000 --duration 1 --no-plots`` with an empty cache), ``api-warm`` (the API run
   with the cache warm) and ``brian2-cpp`` (Brian2 ``cpp_standalone``'s whole process: import, build,
   code generation, ``make``, running the binary; the benchmark suite's worker).  The CPU time of a
   process includes the children it waited for (``make`` and its compilers; memr_snn's background
   compilation).

Prints markdown tables.  Brian2 is optional (skipped when not importable).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_PROFILE_CHILD = r"""
import json, sys, time
t_start = time.perf_counter()
import numba.core.dispatcher as _d

records = []
stack = []
_orig = _d.Dispatcher.compile

def compile(self, sig):
    key = (self.py_func.__module__, self.py_func.__qualname__)
    hits0 = sum(self._cache_hits.values())
    known = len(self.overloads)
    t0 = time.perf_counter(); c0 = time.process_time()
    stack.append([0.0, 0.0])
    try:
        return _orig(self, sig)
    finally:
        inner, inner_cpu = stack.pop()
        dt = time.perf_counter() - t0; dc = time.process_time() - c0
        if stack:
            stack[-1][0] += dt; stack[-1][1] += dc
        if len(self.overloads) > known:  # a new overload: compiled or loaded from the cache
            records.append({"module": key[0], "name": key[1], "inclusive": dt, "exclusive": dt - inner,
                            "exclusive_cpu": dc - inner_cpu,
                            "cache_hit": sum(self._cache_hits.values()) > hits0, "depth": len(stack)})

_d.Dispatcher.compile = compile
t0 = time.perf_counter(); c0 = time.process_time()
import memr_snn
import memr_snn.networks
t_import = time.perf_counter() - t0; c_import = time.process_time() - c0
t0 = time.perf_counter()
va = memr_snn.networks.cuba(n=4000, seed=1, dt=1e-4, record=False)
mon = va.net.add(memr_snn.SpikeMonitor(va.exc))
t_build = time.perf_counter() - t0
t0 = time.perf_counter(); c0 = time.process_time()
va.net.run(1.0)
t_run = time.perf_counter() - t0; c_run = time.process_time() - c0
print(json.dumps({"import": t_import, "import_cpu": c_import, "build": t_build, "first_run": t_run,
                  "first_run_cpu": c_run, "since_start": time.perf_counter() - t_start,
                  "spikes": int(mon.num_spikes), "records": records}))
"""

_API_CHILD = r"""
import json
import memr_snn, memr_snn.networks
from memr_snn.engine import compile_ahead
va = memr_snn.networks.cuba(n=4000, seed=1, dt=1e-4, record=False)
mon = va.net.add(memr_snn.SpikeMonitor(va.exc))
va.net.run(1.0)
print(json.dumps({"spikes": int(mon.num_spikes), "ahead": compile_ahead.LAST}))
"""


def _timed(cmd: list[str], env: dict, cwd: str) -> dict:
    """Run ``cmd``; wall time, and CPU time of the process and its waited-for descendants."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed ({proc.returncode}):\n{err[-3000:]}")
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "peak_rss_mib": ru.ru_maxrss / 1024, "stdout": out}


def _env(cache: str | None) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = cache
    return env


def profile() -> tuple[dict, dict]:
    """One cold and one warm profiling process sharing one numba cache folder."""
    with tempfile.TemporaryDirectory(prefix="msnn_cold_") as tmp:
        cache = os.path.join(tmp, "numba")
        env = dict(_env(cache), MEMR_SNN_COMPILE_AHEAD="0")  # every function compiled (and timed) in this process
        cold = _timed([sys.executable, "-c", _PROFILE_CHILD], env, tmp)
        warm = _timed([sys.executable, "-c", _PROFILE_CHILD], env, tmp)
    return ({**cold, **json.loads(cold.pop("stdout"))}, {**warm, **json.loads(warm.pop("stdout"))})


def _per_function(cold: dict, warm: dict) -> list[str]:
    rows: dict[tuple, dict] = {}
    for label, doc in (("cold", cold), ("warm", warm)):
        for r in doc["records"]:
            row = rows.setdefault((r["module"], r["name"]), {"cold": 0.0, "warm": 0.0, "n": 0, "hit": True})
            row[label] += r["exclusive_cpu"]
            if label == "cold":
                row["n"] += 1
                row["hit"] = row["hit"] and r["cache_hit"]
    total_cold = sum(r["cold"] for r in rows.values())
    total_warm = sum(r["warm"] for r in rows.values())
    lines = [(f"Compiled functions: {len(rows)} ({sum(r['n'] for r in rows.values())} signatures); "
              f"compile total {total_cold:.2f} s CPU (cold), cache load total {total_warm:.2f} s CPU (warm); "
              "each function's own time, without the functions it pulls in (CPU time of the process)."), "",
             "| function | signatures | compile, cold [CPU s] | share | load, warm [CPU s] |", "|---|---|---|---|---|"]
    for (mod, name), r in sorted(rows.items(), key=lambda kv: -kv[1]["cold"]):
        lines.append(f"| `{mod.removeprefix('memr_snn.')}.{name}` | {r['n']} | {r['cold']:.2f} | "
                     f"{r['cold'] / total_cold:.0%} | {r['warm']:.3f} |")
    return lines


def compare(repeats: int, save=None) -> dict[str, list[dict]]:
    """Alternate the contenders in fresh processes; returns every run per contender (``save(runs)`` is
    called after every run)."""
    exe = Path(sys.executable)
    cli = exe.with_name("memr-snn")
    contenders = ["api-cold", "api-cold-1core", "cli-cold", "api-warm"]
    try:
        import brian2  # noqa: F401

        contenders.append("brian2-cpp")
    except ImportError:
        pass
    runs: dict[str, list[dict]] = {c: [] for c in contenders}
    with tempfile.TemporaryDirectory(prefix="msnn_cmp_") as tmp:
        warm_cache = os.path.join(tmp, "warm")
        _timed([sys.executable, "-c", _API_CHILD], _env(warm_cache), tmp)  # fill the warm cache
        for rep in range(repeats):
            order = contenders[rep % len(contenders):] + contenders[:rep % len(contenders)]
            for c in order:
                cold_cache = tempfile.mkdtemp(prefix="cold_", dir=tmp)
                if c in ("api-cold", "api-cold-1core"):
                    env = _env(cold_cache)
                    if c == "api-cold-1core":
                        env["MEMR_SNN_COMPILE_AHEAD"] = "0"  # api-cold: the default (on when two cores are idle)
                    r = _timed([sys.executable, "-c", _API_CHILD], env, tmp)
                    r.update(json.loads(r.pop("stdout").strip().splitlines()[-1]))
                elif c == "cli-cold":
                    out = os.path.join(tmp, "cli_out")
                    r = _timed([str(cli), "run", "cuba", "--n", "4000", "--duration", "1", "--no-plots",
                                "--out", out, "--no-progress"], _env(cold_cache), tmp)
                elif c == "api-warm":
                    r = _timed([sys.executable, "-c", _API_CHILD], _env(warm_cache), tmp)
                else:
                    r = _brian2_cpp(tmp)
                shutil.rmtree(cold_cache, ignore_errors=True)
                r.pop("stdout", None)
                r["load"] = os.getloadavg()[0]
                runs[c].append(r)
                if save is not None:
                    save(runs)
                print(f"[cold_start] repeat {rep + 1}/{repeats} {c}: {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU, "
                      f"load {r['load']:.1f}", file=sys.stderr, flush=True)
    return runs


def _brian2_cpp(tmp: str) -> dict:
    from memr_snn.bench.launch import _WORKER
    from memr_snn.bench.peers.models import network_config

    cfg = {"mode": "brian2", **network_config("cuba", 4000), "duration": 1.0, "dt": 1e-4, "seed": 1,
           "target": "cpp_standalone", "record_spikes": True, "threads": 1, "return_spikes": False}
    out = os.path.join(tmp, "b2.npz")
    return _timed([sys.executable, str(_WORKER), json.dumps(cfg), out], _env(None), tmp)


def _compare_table(runs: dict[str, list[dict]]) -> list[str]:
    ref = runs.get("brian2-cpp")
    ref_wall = statistics.median(r["wall"] for r in ref) if ref else None
    ref_cpu = statistics.median(r["cpu"] for r in ref) if ref else None
    lines = [("| contender | runs | wall [s] median (min–max) | CPU [s] median | peak RSS [MiB] | "
              "wall ÷ brian2-cpp | CPU ÷ brian2-cpp |"), "|---|---|---|---|---|---|---|"]
    for c, rs in runs.items():
        walls, cpus = [r["wall"] for r in rs], [r["cpu"] for r in rs]
        w, cpu = statistics.median(walls), statistics.median(cpus)
        rw = f"{w / ref_wall:.2f}" if ref_wall else "–"
        rc = f"{cpu / ref_cpu:.2f}" if ref_cpu else "–"
        lines.append(f"| {c} | {len(rs)} | {w:.2f} ({min(walls):.2f}–{max(walls):.2f}) | {cpu:.2f} | "
                     f"{max(r['peak_rss_mib'] for r in rs):.0f} | {rw} | {rc} |")
    loads = [r["load"] for rs in runs.values() for r in rs if "load" in r]
    if loads:
        lines += ["", (f"Load average (1 min) after each run: {min(loads):.1f}–{max(loads):.1f} on "
                       f"{os.cpu_count()} CPUs.")]
    ahead = [r["ahead"] for r in runs.get("api-cold", []) if r.get("ahead", {}).get("child_cpu") is not None]
    if ahead:
        med = {k: statistics.median(a[k] for a in ahead) for k in ("here_cpu", "cpu_at_wait", "wait_wall", "child_cpu")}
        lines += ["", (f"api-cold's background compilation (medians of {len(ahead)}): {med['child_cpu']:.2f} s CPU in "
                       f"the background process, {med['here_cpu']:.2f} s CPU compiling its share in the main process, "
                       f"which then waited {med['wait_wall']:.2f} s (at {med['cpu_at_wait']:.2f} s of its CPU time).")]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="rounds of the comparison (median reported)")
    parser.add_argument("--profile-only", action="store_true", help="only the per-function profile")
    parser.add_argument("--compare-only", action="store_true", help="only the comparison")
    parser.add_argument("--json", help="also write every measurement to this JSON file")
    args = parser.parse_args()
    doc: dict = {}
    if not args.compare_only:
        cold, warm = profile()
        doc["profile"] = {"cold": cold, "warm": warm}
        for label, d in (("cold", cold), ("warm", warm)):
            print(f"{label} cache: import {d['import']:.2f} s ({d['import_cpu']:.2f} s CPU), build "
                  f"{d['build']:.2f} s, first run {d['first_run']:.2f} s ({d['first_run_cpu']:.2f} s CPU), "
                  f"process {d['wall']:.2f} s wall / {d['cpu']:.2f} s CPU, {d['spikes']} exc spikes")
        print()
        print("\n".join(_per_function(cold, warm)))
        print()
    if not args.profile_only:
        def save(runs):
            doc["compare"] = runs
            if args.json:
                Path(args.json).write_text(json.dumps(doc, indent=1))

        runs = compare(args.repeats, save)
        print("\n".join(_compare_table(runs)))
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
