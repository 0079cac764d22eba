"""The markdown report of a benchmark run (:func:`format_markdown`)."""

from __future__ import annotations

import math

from .plan import SCALING_GROWTH_TARGET, TARGETS
from .stats import ratio

__all__ = ["format_markdown"]


def _fmt_s(x: float | None) -> str:
    """Seconds with three significant digits, never in exponent form."""
    if x is None or not math.isfinite(x):
        return "–"
    if x == 0:
        return "0"
    digits = max(0, 2 - int(math.floor(math.log10(abs(x)))))
    return f"{x:.{digits}f}"


def _fmt_ratio(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    if x == 0:
        return "0"
    if abs(x) >= 0.1:
        return f"{x:.2f}"
    return f"{x:.{1 - int(math.floor(math.log10(abs(x))))}f}"  # two significant digits


def _fmt_stat(s: dict, fmt=_fmt_s, spread: bool = True) -> str:
    if not s or not s.get("n"):
        return "–"
    text = fmt(s["median"])
    if spread and s["n"] > 1:
        text += f" ({fmt(s['min'])}–{fmt(s['max'])})"
    return text


def _mark(value: float | None, target: float) -> str:
    if value is None:
        return "–"
    return f"{_fmt_ratio(value)} {'✓' if value <= target else '✗'}"


_TITLES = {"cuba": "CUBA (current-based LIF)", "coba": "COBA (conductance-based LIF)",
           "alif": "ALIF (CUBA network, adaptive threshold)"}


def _case_table(cases: list[dict]) -> list[str]:
    head = ("| N | T [s] | contender | runs | build [s] | first run [s] | steady run, wall [s] | steady run, CPU [s] | "
            "first result [s] | peak RSS [MiB] | spikes | rate [Hz] | memr_snn ÷ this, steady CPU | "
            "memr_snn ÷ this, steady wall | memr_snn ÷ this, first result |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for case in cases:
        for c in case["contenders"]:
            s = case["summary"].get(c)
            label = c
            if s is None:
                lines.append(f"| {case['n_neurons']} | {case['duration']:g} | {label} | 0 | failed: see notes "
                             "| | | | | | | | | | |")
                continue
            if c == "memr_snn":
                label = f"memr_snn ({s['engine']})"
            rss = s["peak_rss"]
            rss_text = "–" if not rss.get("n") else f"{rss['median'] / 2**20:.0f}"
            if c == "brian2-cpp":
                rss_text += " (binary)"
            fr = _fmt_stat(s["first_result_time"])
            if not s["first_result_exact"]:
                fr = "≈" + fr
            ratios = case["ratios"]
            cpu_ratio = ratios["steady_vs"].get(c) if ratios.get("steady_clock", {}).get(c) == "cpu" else None
            r_steady = "" if c == "memr_snn" else _fmt_ratio(cpu_ratio)
            r_wall = "" if c == "memr_snn" else _fmt_ratio(ratios.get("steady_wall_vs", ratios["steady_vs"]).get(c))
            cpu = s.get("run_cpu", {})
            cpu_text = _fmt_stat(cpu) if cpu.get("n") else "–"
            r_first = "" if c == "memr_snn" else _fmt_ratio(case["ratios"]["first_result_vs"].get(c))
            spikes = s["n_spikes"]
            lines.append(
                f"| {case['n_neurons']} | {case['duration']:g} | {label} | {s['run_time']['n']} | "
                f"{_fmt_s(s['build_time'].get('median'))} | {_fmt_s(s['first_run_time'].get('median'))} | "
                f"{_fmt_stat(s['run_time'])} | {cpu_text} | {fr} | {rss_text} | "
                f"{'–' if not spikes.get('n') else int(round(spikes['median']))} | "
                f"{_fmt_s(s['rate_hz'].get('median'))} | {r_steady} | {r_wall} | {r_first} |"
            )
        for c, why in case["skipped"].items():
            lines.append(f"| {case['n_neurons']} | {case['duration']:g} | {c} | 0 | skipped: {why} "
                         "| | | | | | | | | | |")
    return lines


def _targets_table(cases: list[dict]) -> list[str]:
    t = TARGETS
    lines = [
        (f"| model | N | T [s] | steady ÷ fastest peer (≤ {t['steady_vs_fastest_peer']:g}) | fastest peer | "
         f"steady ÷ NEST (≤ {t['steady_vs_nest']:g}) | first result ÷ brian2-cpp (≤ "
         f"{t['first_result_vs_brian2_cpp']:g}) | bytes/synapse (≤ {t['bytes_per_synapse']:g}) |"),
        "|---|---|---|---|---|---|---|---|",
    ]
    for case in cases:
        r = case["ratios"]
        if not r:
            continue
        ran = sorted(r.get("steady_vs", {}))
        not_run = sorted(case.get("skipped", {}))
        fastest = r.get("fastest_peer", "–")
        # the fastest peer is the fastest of those that ran: say which did not, so a ✓ against a slower
        # peer is not mistaken for one against the peer that was left out
        fastest_text = f"{fastest} (of {', '.join(ran) or 'none'}" + (f"; not run: {', '.join(not_run)})"
                                                                       if not_run else ")")
        bps = r.get("bytes_per_synapse")
        bps_text = "–" if bps is None else f"{bps:.2f} {'✓' if bps <= t['bytes_per_synapse'] else '✗'}"
        lines.append(
            f"| {case['model']} | {case['n_neurons']} | {case['duration']:g} | "
            f"{_mark(r.get('steady_vs_fastest_peer'), t['steady_vs_fastest_peer'])} | {fastest_text} | "
            f"{_mark(r.get('steady_vs_nest'), t['steady_vs_nest'])} | "
            f"{_mark(r.get('first_result_vs_brian2_cpp'), t['first_result_vs_brian2_cpp'])} | {bps_text} |"
        )
    return lines


def _threads_table(cases: list[dict]) -> list[str]:
    """Two threads: memr_snn's speed-up over one thread (goal >= 1.6 at 64000 neurons) and its steady run
    over each peer's on two threads (goal < 1)."""
    rows = [c for c in cases if c["ratios"].get("two_threads_speedup") is not None]
    if not rows:
        return []
    lines = ["| model | N | T [s] | memr_snn: 1 thread ÷ 2 threads (≥ 1.6) | memr_snn-2t ÷ peer-2t (< 1) |",
             "|---|---|---|---|---|"]
    for case in rows:
        r = case["ratios"]
        vs = ", ".join(f"{c}: {_mark(v, 1.0)}" for c, v in sorted(r.get("two_threads_vs", {}).items())) or "–"
        speedup = r["two_threads_speedup"]
        lines.append(f"| {case['model']} | {case['n_neurons']} | {case['duration']:g} | "
                     f"{speedup:.2f} {'✓' if speedup >= 1.6 else '✗'} | {vs} |")
    return lines


def _cold_table(cold: dict) -> list[str]:
    if cold is None:
        return []
    if "error" in cold:
        return [f"Cold-start measurement failed: {cold['error']}"]
    cpp = cold.get("brian2_cpp_first_result")
    lines = [
        (f"Time to first result from an empty compiler cache, {cold['model'].upper()} N = {cold['n_neurons']}, "
         f"T = {cold['duration']:g} s ({cold['repeats']} run(s) each, alternated). memr_snn: a fresh, empty "
         "`NUMBA_CACHE_DIR` (every kernel compiled); Brian2 cython: a fresh, empty Cython cache folder; "
         "brian2-cpp compiles on every run anyway (its first result in the CUBA table: "
         f"{_fmt_stat(cpp) if cpp else '–'} s)."),
        "",
        ("| contender | first run, cold [s] | first result, cold [s] | first result, warm [s] | "
         "cold ÷ brian2-cpp first result |"),
        "|---|---|---|---|---|",
    ]
    for c, s in cold["summary"].items():
        warm = cold["warm_summary"].get(c, {}).get("first_result_time")
        warm_text = _fmt_stat(warm) if warm else "–"
        if warm and not cold["warm_summary"][c]["first_result_exact"]:
            warm_text = "≈" + warm_text
        fr = _fmt_stat(s["first_result_time"])
        if not s["first_result_exact"]:
            fr = "≈" + fr
        lines.append(f"| {c} | {_fmt_stat(s['first_run_time'])} | {fr} | {warm_text} | "
                     f"{_fmt_ratio(cold['ratios_vs_brian2_cpp'].get(c))} |")
    for f in cold.get("failures", []):
        lines.append(f"| {f['contender']} | failed: {f['error']} | | | |")
    return lines


def _scaling_table(sc: dict) -> list[str]:
    if sc is None:
        return []
    if "error" in sc:
        return [f"Event-driven scaling failed: {sc['error']}"]
    lines = [
        (f"An idle LIF population (default `LIFParams`, subthreshold) receives the same "
         f"{sc.get('input_spikes', '?')} input spikes from 100 `SpikeSource` neurons, "
         f"{sc.get('synaptic_events', '?')} synaptic events onto {sc.get('targets', '?')} target neurons, over "
         f"T = {sc['duration']:g} s (dt = 0.1 ms); run time after a {sc['warmup'] * 1e3:g} ms warm-up run, median "
         f"(min–max) of {sc['repeats']} run(s), sizes and engines interleaved in one fresh process. "
         f"Spikes of the idle population: {sc['idle_spikes']} (expected 0)."),
        "",
        "| neurons | event engine [s] | dense engine [s] | event ÷ event at the smallest size |",
        "|---|---|---|---|",
    ]
    sizes = sorted(set(sc["sizes"]) | set(sc["dense_sizes"]))
    smallest = sc["event"].get(str(min(sc["sizes"]))) if sc["sizes"] else None
    for n in sizes:
        ev = sc["event"].get(str(n))
        de = sc["dense"].get(str(n))
        lines.append(f"| {n:,} | {_fmt_stat(ev) if ev else '–'} | {_fmt_stat(de) if de else 'not run'} | "
                     f"{_fmt_ratio(ratio(ev, smallest)) if ev else '–'} |")
    g = sc.get("event_growth")
    met = "met" if g is not None and g <= SCALING_GROWTH_TARGET else "missed"
    lines += ["", (f"Event-engine growth {min(sc['sizes']):,} → {max(sc['sizes']):,} neurons: "
                   f"**{_fmt_ratio(g)}x** (target ≤ {SCALING_GROWTH_TARGET:g}x: {met}).")]
    if sc.get("dense_growth") is not None and len(set(sc["dense_sizes"])) > 1:
        lines[-1] += (f" Dense engine {min(sc['dense_sizes']):,} → {max(sc['dense_sizes']):,}: "
                      f"{_fmt_ratio(sc['dense_growth'])}x.")
    return lines


def format_markdown(doc: dict) -> str:
    """The human-readable report of a :func:`run_suite` document."""
    info = doc.get("machine", {})
    v = doc.get("versions", {})
    mem = info.get("memory_total_bytes")
    lines = [
        "# memr_snn benchmark" + (" (--quick: smoke test, not a measurement)" if doc.get("quick") else ""),
        "",
        f"- command: `{doc.get('command', '')}`",
        f"- started {doc.get('started', '?')}, wall time {_fmt_s(doc.get('wall_time'))} s",
        (f"- machine: {doc.get('cpu_model') or '?'}, {info.get('cpu_count', '?')} CPUs, "
         f"{'?' if mem is None else f'{mem / 2**30:.1f} GiB'} memory, {info.get('platform', '?')}"),
        "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val),
        ("- every run in a fresh process, contenders alternated, median (min–max) of the runs; ratios are "
         "memr_snn's median over the peer's median from this run; NEST uses 1 thread, Brian2 and memr_snn 1 core"),
    ]
    if doc.get("notes"):
        lines += ["", "Notes:", ""] + [f"- {n}" for n in doc["notes"]]
    failures = [(c["key"], f) for c in doc.get("cases", []) for f in c["failures"]]
    if failures:
        lines += ["", "Failures:", ""] + [f"- {k}: {f['contender']} (repeat {f['repeat'] + 1}): {f['error']}"
                                          for k, f in failures]
    models = list(dict.fromkeys(c["model"] for c in doc.get("cases", [])))
    for m in models:
        lines += ["", f"## {_TITLES.get(m, m)}", ""] + _case_table([c for c in doc["cases"] if c["model"] == m])
    if doc.get("cases"):
        lines += ["", "## Targets (memr_snn ÷ peer, medians of this run)", ""] + _targets_table(doc["cases"])
        threads = _threads_table(doc["cases"])
        if threads:
            lines += ["", "## Two threads (medians of this run; the machine's other load shares the cores)", ""]
            lines += threads
    if doc.get("cold"):
        lines += ["", "## Cold start (empty compiler caches)", ""] + _cold_table(doc["cold"])
    if doc.get("scaling"):
        lines += ["", "## Event-driven scaling", ""] + _scaling_table(doc["scaling"])
    lines += ["", ("Columns: build = constructing the network (cpp_standalone: plus code generation and make); "
                   "first run = the first run call in the fresh process (JIT/codegen included, caches warm); steady "
                   "run = simulation with everything compiled (see docs/benchmarks.md per contender), as wall and as "
                   "CPU time (memr_snn, Brian2's runtime targets and NEST: time.process_time; brian2-cpp: both clocks "
                   "read inside the binary around its network run); steady ratios compare CPU with CPU (the targets "
                   "table uses these) and wall with wall; first result = "
                   "process launch to the end of the first run (≈: the process time less its second run); peak RSS "
                   "= the process's peak resident memory (brian2-cpp: the compiled binary's).")]
    return "\n".join(lines) + "\n"
