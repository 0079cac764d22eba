"""Run memr_snn fixed-point networks in Lava 0.10 (``fixed_pt``), one .npz at a time.

This file is executed by path with a Python 3.10 interpreter that has
``lava-nc`` installed; it imports only numpy and lava (never memr_snn), so it
works with Lava's numpy 1.x.  Usage::

    python _lava_runner.py IN1.npz OUT1.npz [IN2.npz OUT2.npz ...]

Input archive (all arrays, no pickles), written by
:func:`memr_snn.adapters.lava.write_lava_artifact`:

* ``n_steps``, ``record_state``, ``n_pops``, ``n_inputs``, ``n_conns``;
* ``pop{i}_name``, ``in{k}_name`` (strings, not used here);
* ``pop{i}_n, _du, _dv, _vth`` (scalars), ``pop{i}_bias_mant, _bias_exp,
  _u0, _v0`` (``(n,)`` int);
* ``in{k}_spikes``: ``(n, n_steps)`` int32, Lava ``RingBuffer`` layout
  (time last);
* ``c{j}_pre_kind`` (0 population, 1 input), ``c{j}_pre``, ``c{j}_post``,
  ``c{j}_weights`` ``(n_post, n_pre)`` raw int, ``c{j}_delays``
  ``(n_post, n_pre)`` int, ``c{j}_use_delay`` (1: ``DelayDense``, 0:
  ``Dense``), ``c{j}_weight_exp``, ``c{j}_num_weight_bits``,
  ``c{j}_sign_mode`` (Lava ``SignMode`` value: 1 mixed, 2 excitatory,
  3 inhibitory).

Output archive: ``pop{i}_spikes`` ``(n_steps, n)`` uint8, and when recorded
``pop{i}_u``/``pop{i}_v`` ``(n_steps, n)`` int64 (state after each step),
plus ``build_s`` and ``run_s`` (wall-clock seconds spent building and
running the Lava graph).  An optional input ``warmup_steps`` (benchmarks)
runs that many steps first and reports the time of the remaining
``steady_steps`` steps as ``steady_s``.
"""

import os
import sys
import time

# This file sits next to memr_snn/adapters/lava.py: drop its own directory from
# sys.path so that ``import lava`` finds the real Lava package.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import numpy as np  # noqa: E402


def _components(n_pops, n_inputs, conns):
    """Groups of population indices that form one connected Lava graph."""
    parent = list(range(n_pops + n_inputs))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for c in conns:
        a = find(c["pre"] if c["pre_kind"] == 0 else n_pops + c["pre"])
        parent[a] = find(c["post"])
    groups = {}
    for i in range(n_pops):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def run_one(path_in, path_out):
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import DelayDense, Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF
    from lava.proc.monitor.process import Monitor
    from lava.utils.weightutils import SignMode

    t0 = time.perf_counter()
    z = np.load(path_in, allow_pickle=False)
    n_steps = int(z["n_steps"])
    record = bool(int(z["record_state"]))
    n_pops, n_inputs, n_conns = int(z["n_pops"]), int(z["n_inputs"]), int(z["n_conns"])
    lifs = []
    for i in range(n_pops):
        n = int(z[f"pop{i}_n"])
        lifs.append(
            LIF(
                shape=(n,),
                du=int(z[f"pop{i}_du"]),
                dv=int(z[f"pop{i}_dv"]),
                vth=int(z[f"pop{i}_vth"]),
                bias_mant=z[f"pop{i}_bias_mant"].astype(np.int32),
                bias_exp=z[f"pop{i}_bias_exp"].astype(np.int32),
                u=z[f"pop{i}_u0"].astype(np.int32),
                v=z[f"pop{i}_v0"].astype(np.int32),
            )
        )
    sources = [RingBuffer(data=z[f"in{k}_spikes"].astype(np.int32)) for k in range(n_inputs)]
    conns = []
    for j in range(n_conns):
        c = {k: int(z[f"c{j}_{k}"]) for k in ("pre_kind", "pre", "post", "use_delay", "weight_exp",
                                              "num_weight_bits", "sign_mode")}
        kwargs = dict(
            weights=z[f"c{j}_weights"].astype(np.int32),
            weight_exp=c["weight_exp"],
            num_weight_bits=c["num_weight_bits"],
            sign_mode=SignMode(c["sign_mode"]),
        )
        proc = DelayDense(delays=z[f"c{j}_delays"].astype(int), **kwargs) if c["use_delay"] else Dense(**kwargs)
        src = lifs[c["pre"]] if c["pre_kind"] == 0 else sources[c["pre"]]
        src.s_out.connect(proc.s_in)
        proc.a_out.connect(lifs[c["post"]].a_in)
        conns.append(c)
    monitors = []
    for lif in lifs:
        mons = {"s_out": Monitor()}
        mons["s_out"].probe(lif.s_out, n_steps)
        if record:
            for var in ("u", "v"):
                mons[var] = Monitor()
                mons[var].probe(getattr(lif, var), n_steps)
        monitors.append(mons)
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    out = {}
    cfg = Loihi2SimCfg(select_tag="fixed_pt")
    split = "warmup_steps" in z.files and int(z["warmup_steps"]) > 0
    steady_s = None
    for comp in _components(n_pops, n_inputs, conns):
        head = lifs[comp[0]]
        if split:  # benchmark mode: compile and start on a few steps, then time the rest
            w = min(int(z["warmup_steps"]), n_steps - 1)
            head.run(condition=RunSteps(num_steps=w), run_cfg=cfg)
            t2 = time.perf_counter()
            head.run(condition=RunSteps(num_steps=n_steps - w), run_cfg=cfg)
            steady_s = (time.perf_counter() - t2, n_steps - w)
        else:
            head.run(condition=RunSteps(num_steps=n_steps), run_cfg=cfg)
        for i in comp:
            lif = lifs[i]
            spk = monitors[i]["s_out"].get_data()[lif.name]["s_out"]
            out[f"pop{i}_spikes"] = np.asarray(spk).reshape(n_steps, -1).astype(np.uint8)
            if record:
                for var in ("u", "v"):
                    d = monitors[i][var].get_data()[lif.name][var]
                    out[f"pop{i}_{var}"] = np.rint(np.asarray(d)).reshape(n_steps, -1).astype(np.int64)
        head.stop()
    out["build_s"] = np.float64(build_s)
    out["run_s"] = np.float64(time.perf_counter() - t1)
    if steady_s is not None:
        out["steady_s"] = np.float64(steady_s[0])
        out["steady_steps"] = np.int64(steady_s[1])
    np.savez(path_out, **out)


def main(argv):
    if len(argv) < 2 or len(argv) % 2:
        sys.stderr.write("usage: _lava_runner.py IN.npz OUT.npz [IN.npz OUT.npz ...]\n")
        return 2
    for k in range(0, len(argv), 2):
        run_one(argv[k], argv[k + 1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
