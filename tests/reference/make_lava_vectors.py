"""Produce tests/reference/lava/*.npz: randomized networks run in Lava 0.10 ``fixed_pt``.

Run with a Python 3.10 interpreter that has ``lava-nc==0.10.0`` (numpy 1.26)::

    $MEMR_SNN_PYTHON310 tests/reference/make_lava_vectors.py

Pass case names (``random wrap clip weights delays overflow``) to regenerate only those.
It does not import memr_snn.  Each case is written in the artifact layout of
``memr_snn/adapters/_lava_runner.py`` (the network) and run by that runner's
``run_one`` (so Lava builds ``LIF``/``Dense``/``DelayDense``/``RingBuffer``
processes and records ``s_out``, ``u``, ``v`` with ``Monitor``); the stored
file is the network plus Lava's output prefixed ``out_``.  The tests rebuild
the network with ``memr_snn.adapters.lava.read_lava_artifact`` and compare
memr_snn's fixed-point run with the stored Lava output, spike for spike and
state for state.
"""

import importlib.util
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "..", "..", "memr_snn", "adapters", "_lava_runner.py")
OUT_DIR = os.path.join(HERE, "lava")
SIGN = {"mixed": 1, "excitatory": 2, "inhibitory": 3}


def _pop(a, i, n, rng, *, du=None, dv=None, vth=None, bias=True, init=True):
    a[f"pop{i}_n"] = n
    a[f"pop{i}_du"] = int(rng.integers(0, 4096)) if du is None else du
    a[f"pop{i}_dv"] = int(rng.integers(0, 4096)) if dv is None else dv
    a[f"pop{i}_vth"] = int(rng.integers(1, 400)) if vth is None else vth
    a[f"pop{i}_bias_mant"] = rng.integers(-60, 120, n) if bias else np.zeros(n, np.int64)
    a[f"pop{i}_bias_exp"] = rng.integers(0, 8, n) if bias else np.zeros(n, np.int64)
    a[f"pop{i}_u0"] = rng.integers(-5000, 5000, n) if init else np.zeros(n, np.int64)
    a[f"pop{i}_v0"] = rng.integers(-5000, 5000, n) if init else np.zeros(n, np.int64)


def _conn(a, j, pre_kind, pre, post, w, *, wexp=0, nbits=8, mode=None, delays=None):
    if mode is None:
        mode = "excitatory" if w.min() >= 0 else ("inhibitory" if w.max() <= 0 else "mixed")
    a[f"c{j}_pre_kind"] = pre_kind
    a[f"c{j}_pre"] = pre
    a[f"c{j}_post"] = post
    a[f"c{j}_weights"] = w.astype(np.int64)
    a[f"c{j}_delays"] = np.zeros(w.shape, np.int64) if delays is None else delays.astype(np.int64)
    a[f"c{j}_use_delay"] = int(delays is not None and delays.max() > 0)
    a[f"c{j}_weight_exp"] = wexp
    a[f"c{j}_num_weight_bits"] = nbits
    a[f"c{j}_sign_mode"] = SIGN[mode]


def _sparse(rng, shape, lo, hi, p):
    return np.where(rng.random(shape) < p, rng.integers(lo, hi + 1, shape), 0)


def case_random(seed):
    """Two populations, one input, recurrent mixed/excitatory/inhibitory weights, delays, biases."""
    rng = np.random.default_rng(seed)
    T, n1, n2, m = 120, int(rng.integers(8, 25)), int(rng.integers(5, 20)), int(rng.integers(4, 12))
    a = dict(n_steps=T, record_state=1, n_pops=2, n_inputs=1, n_conns=4)
    _pop(a, 0, n1, rng)
    _pop(a, 1, n2, rng)
    a["in0_spikes"] = (rng.random((m, T)) < 0.15).astype(np.int32)
    _conn(a, 0, 1, 0, 0, _sparse(rng, (n1, m), -256, 255, 0.6), wexp=int(rng.integers(-3, 4)),
          nbits=int(rng.integers(5, 9)))
    _conn(a, 1, 0, 0, 1, _sparse(rng, (n2, n1), 0, 255, 0.4), wexp=int(rng.integers(-4, 2)),
          nbits=int(rng.integers(3, 9)), delays=rng.integers(0, 6, (n2, n1)))
    _conn(a, 2, 0, 1, 0, _sparse(rng, (n1, n2), -255, 0, 0.4), wexp=int(rng.integers(-2, 3)),
          nbits=int(rng.integers(4, 9)), delays=rng.integers(0, 3, (n1, n2)))
    _conn(a, 3, 0, 0, 0, _sparse(rng, (n1, n1), -256, 255, 0.3), wexp=int(rng.integers(-3, 2)),
          nbits=int(rng.integers(6, 9)))
    return a


def case_wrap(seed):
    """Strong drive: the 24-bit current wraps around in both directions; exact +-2**23 boundaries."""
    rng = np.random.default_rng(seed)
    T, n, m = 40, 6, 64
    a = dict(n_steps=T, record_state=1, n_pops=1, n_inputs=2, n_conns=2)
    _pop(a, 0, n, rng, du=4095, dv=4095, vth=131071, bias=False, init=False)
    # input 0: all 64 channels together at chosen steps; 128 * 64 << 4 = 2**17 -> u = 2**23 exactly
    s0 = np.zeros((m, T), np.int32)
    s0[:, [2, 10, 11, 20]] = 1
    s1 = np.zeros((m, T), np.int32)
    s1[:, [5, 15, 16, 25]] = 1
    a["in0_spikes"], a["in1_spikes"] = s0, s1
    w0 = np.zeros((n, m), np.int64)
    w0[0] = 128
    w0[1] = 255
    w0[2] = rng.integers(100, 256, m)
    w0[3] = 200
    _conn(a, 0, 1, 0, 0, w0, wexp=4)
    w1 = np.zeros((n, m), np.int64)
    w1[0] = -256  # mixed: -256 * 64 << 3 = -2**17 -> u = -2**23 -> wraps to +2**23
    w1[1] = 1
    w1[4] = -256
    w1[5] = rng.integers(-256, -100, m)
    _conn(a, 1, 1, 1, 0, w1, wexp=3, mode="mixed")
    return a


def case_clip(seed):
    """No voltage decay and a strong bias / inhibition: v clips at -(2**23 - 1); high threshold."""
    rng = np.random.default_rng(seed)
    T, n, m = 80, 8, 16
    a = dict(n_steps=T, record_state=1, n_pops=1, n_inputs=1, n_conns=1)
    _pop(a, 0, n, rng, du=int(rng.integers(0, 200)), dv=0, vth=131071, init=False)
    a["pop0_bias_mant"] = rng.integers(-4096, 4096, n)
    a["pop0_bias_exp"] = np.full(n, 7)
    a["in0_spikes"] = (rng.random((m, T)) < 0.5).astype(np.int32)
    _conn(a, 0, 1, 0, 0, rng.integers(-255, 1, (n, m)), wexp=7)
    return a


def case_weights(seed):
    """Weight preprocessing: out-of-range weights (clipped by Lava), forced sign modes, 1..8 weight bits."""
    rng = np.random.default_rng(seed)
    T, n, m = 60, 12, 10
    a = dict(n_steps=T, record_state=1, n_pops=1, n_inputs=1, n_conns=3)
    _pop(a, 0, n, rng, du=3000, dv=500, vth=20, bias=False, init=False)
    a["in0_spikes"] = (rng.random((m, T)) < 0.3).astype(np.int32)
    _conn(a, 0, 1, 0, 0, rng.integers(-400, 400, (n, m)), wexp=-1, nbits=int(rng.integers(1, 9)), mode="mixed")
    _conn(a, 1, 1, 0, 0, rng.integers(-50, 300, (n, m)), wexp=0, nbits=int(rng.integers(1, 9)), mode="excitatory")
    _conn(a, 2, 1, 0, 0, rng.integers(-300, 50, (n, m)), wexp=-2, nbits=int(rng.integers(1, 9)), mode="inhibitory")
    return a


def case_delays(seed):
    """Long DelayDense delays up to 63 and a one-step Dense chain."""
    rng = np.random.default_rng(seed)
    T, n, m = 150, 10, 5
    a = dict(n_steps=T, record_state=1, n_pops=2, n_inputs=1, n_conns=2)
    _pop(a, 0, n, rng, du=4095, dv=4095, vth=1, bias=False, init=False)
    _pop(a, 1, n, rng, du=4095, dv=4095, vth=1, bias=False, init=False)
    s = np.zeros((m, T), np.int32)
    s[np.arange(m), rng.integers(0, 20, m)] = 1
    a["in0_spikes"] = s
    _conn(a, 0, 1, 0, 0, rng.integers(0, 256, (n, m)), delays=rng.integers(0, 64, (n, m)))
    _conn(a, 1, 0, 0, 1, np.eye(n, dtype=np.int64) * 255)
    return a


def case_overflow(seed):
    """1100 inputs x 255 << 7: the summed activation overflows int32 after the << 6 alignment (Lava wraps)."""
    m, T = 1100, 12
    a = dict(n_steps=T, record_state=1, n_pops=1, n_inputs=1, n_conns=1)
    rng = np.random.default_rng(seed)
    _pop(a, 0, 3, rng, du=4095, dv=4095, vth=131071, bias=False, init=False)
    s = np.zeros((m, T), np.int32)
    s[:, 1] = 1
    s[:600, 3] = 1
    s[rng.random(m) < 0.5, 6] = 1
    a["in0_spikes"] = s
    w = np.full((3, m), 255)
    w[1] = 100
    w[2] = rng.integers(0, 256, m)
    _conn(a, 0, 1, 0, 0, w, wexp=7)
    return a


CASES = [("random", case_random, s) for s in range(4)] + [
    ("overflow", case_overflow, 15),
    ("wrap", case_wrap, 10),
    ("clip", case_clip, 11),
    ("weights", case_weights, 12),
    ("weights", case_weights, 13),
    ("delays", case_delays, 14),
]


def main():
    spec = importlib.util.spec_from_file_location("_lava_runner", RUNNER)
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    os.makedirs(OUT_DIR, exist_ok=True)
    only = set(sys.argv[1:])  # optional case names, e.g. `make_lava_vectors.py overflow`
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn, seed in CASES:
            if only and name not in only:
                continue
            arrays = {k: np.asarray(v) for k, v in fn(seed).items()}
            fin, fout = os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npz")
            np.savez(fin, **arrays)
            runner.run_one(fin, fout)
            with np.load(fout) as z:
                for k in z.files:
                    if k in ("build_s", "run_s"):
                        continue
                    v = z[k]
                    arrays["out_" + k] = v.astype(np.int32) if v.dtype.kind in "iu" else v
            arrays["lava_version"] = np.array("lava-nc 0.10.0, numpy " + np.__version__)
            path = os.path.join(OUT_DIR, f"{name}_{seed}.npz")
            np.savez_compressed(path, **arrays)
            print(path, os.path.getsize(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
