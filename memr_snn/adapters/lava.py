"""Lava adapter: export memr_snn networks to a Lava 0.10 process graph and run it.

Lava runs on Python 3.10 only, while memr_snn runs on any Python >= 3.10, so
the adapter never imports ``lava`` in this interpreter.  It writes a
self-contained ``.npz`` artifact (plain integer arrays, see
``memr_snn/adapters/_lava_runner.py`` for the layout) and runs that runner
script with a Python 3.10 interpreter that has ``lava-nc==0.10.0``, found by
:func:`memr_snn.info.find_python310` (``$MEMR_SNN_PYTHON310`` first).  The
runner builds the graph -- ``LIF`` per population, ``RingBuffer`` per spike
input, ``Dense`` per connection (``DelayDense`` where any delay is non-zero;
sparse projections become dense matrices with zeros) -- and runs it with
``Loihi2SimCfg(select_tag="fixed_pt")``, i.e. ``PyLifModelBitAcc`` and
``PyDenseModelBitAcc``.

Element conversion is a registry ``{our type: converter}`` (:data:`EXPORTERS`);
anything not in it is refused with a :class:`LavaExportError` naming the
element and the reason.  Float :class:`memr_snn.Network` objects are first
quantized with :func:`memr_snn.hardware.to_fixed_point`; the time step ``dt``
and the unit scaling (volts and amperes to Loihi integers) are chosen there,
once, and reported in its :class:`~memr_snn.hardware.QuantizationReport`.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..hardware.conversion import UnsupportedElementError
from ..hardware.fixed_point import (
    FixedPointConnection,
    FixedPointNetwork,
    FixedPointPopulation,
    FixedPointResult,
    SpikeInput,
)

__all__ = [
    "LavaExportError",
    "LavaUnavailableError",
    "EXPORTERS",
    "RUNNER_PATH",
    "find_lava_python",
    "write_lava_artifact",
    "run_in_lava",
    "export_lava",
    "read_lava_artifact",
]

RUNNER_PATH = Path(__file__).with_name("_lava_runner.py")
"""The 3.10-side runner script (imports numpy and lava only)."""

_HOW_TO = (
    "Lava needs a Python 3.10 interpreter with lava-nc 0.10: create one (`tools/setup_lava_env.sh .venv310` in a "
    "source checkout, or `python3.10 -m venv .venv310 && .venv310/bin/pip install lava-nc==0.10.0`) and set "
    "MEMR_SNN_PYTHON310 to its python executable (e.g. MEMR_SNN_PYTHON310=$PWD/.venv310/bin/python)."
)

_SIGN_MODE_VALUES = {"mixed": 1, "excitatory": 2, "inhibitory": 3}  # lava.utils.weightutils.SignMode


class LavaExportError(UnsupportedElementError):
    """The network holds an element the Lava exporter has no converter for."""


class LavaUnavailableError(RuntimeError):
    """No Python 3.10 interpreter with lava-nc was found."""


def find_lava_python(python: str | None = None) -> str:
    """Return a Python 3.10 interpreter that can ``import lava``.

    Parameters
    ----------
    python : str, optional
        Interpreter to use; default :func:`memr_snn.info.find_python310`.

    Raises
    ------
    LavaUnavailableError
        With a message saying how to provide one.
    """
    if python is None:
        from ..info import find_python310

        python = find_python310()
        if python is None:
            raise LavaUnavailableError(f"no Python 3.10 interpreter found. {_HOW_TO}")
    try:
        proc = subprocess.run(
            [python, "-c", "import lava.proc.lif.process, numpy; print(numpy.__version__)"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LavaUnavailableError(f"cannot run {python!r} ({exc}). {_HOW_TO}") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise LavaUnavailableError(f"{python!r} cannot import lava ({last}). {_HOW_TO}")
    return python


# --------------------------------------------------------------------------- registry


def _export_population(pop: FixedPointPopulation, i: int, n_steps: int) -> dict:
    p = pop.params
    return {
        f"pop{i}_name": np.array(pop.name),
        f"pop{i}_n": np.int64(pop.n),
        f"pop{i}_du": np.int64(p.du),
        f"pop{i}_dv": np.int64(p.dv),
        f"pop{i}_vth": np.int64(p.vth),
        f"pop{i}_bias_mant": np.broadcast_to(np.asarray(p.bias_mant, np.int64), (pop.n,)).copy(),
        f"pop{i}_bias_exp": np.broadcast_to(np.asarray(p.bias_exp, np.int64), (pop.n,)).copy(),
        f"pop{i}_u0": np.broadcast_to(np.asarray(pop.u0, np.int64), (pop.n,)).copy(),
        f"pop{i}_v0": np.broadcast_to(np.asarray(pop.v0, np.int64), (pop.n,)).copy(),
    }


def _export_input(inp: SpikeInput, k: int, n_steps: int) -> dict:
    data = np.zeros((inp.n, max(n_steps, 1)), np.int32)  # RingBuffer: time is the last axis
    m = min(n_steps, inp.spikes.shape[0])
    data[:, :m] = inp.spikes[:m].T
    return {f"in{k}_spikes": data, f"in{k}_name": np.array(inp.name)}


def _export_connection(c: FixedPointConnection, j: int, n_steps: int, *, pre_kind: int, pre: int, post: int) -> dict:
    return {
        f"c{j}_pre_kind": np.int64(pre_kind),
        f"c{j}_pre": np.int64(pre),
        f"c{j}_post": np.int64(post),
        f"c{j}_weights": c.dense_weights(effective=False),
        f"c{j}_delays": c.dense_delays(),
        f"c{j}_use_delay": np.int64(c.max_delay > 0),
        f"c{j}_weight_exp": np.int64(c.weight_exp),
        f"c{j}_num_weight_bits": np.int64(c.num_weight_bits),
        f"c{j}_sign_mode": np.int64(_SIGN_MODE_VALUES[c.resolved_sign_mode]),
    }


EXPORTERS = {
    FixedPointPopulation: _export_population,
    SpikeInput: _export_input,
    FixedPointConnection: _export_connection,
}
"""``{element type: converter}``: how each fixed-point element becomes Lava arrays."""


def _converter(obj):
    conv = EXPORTERS.get(type(obj))
    if conv is None:
        raise LavaExportError(
            f"{type(obj).__name__} {getattr(obj, 'name', '')!r}: Lava export has no converter for this element "
            f"(supported: {', '.join(t.__name__ for t in EXPORTERS)})"
        )
    return conv


def _as_fixed_point(network, **kwargs) -> FixedPointNetwork:
    if isinstance(network, FixedPointNetwork):
        return network
    from ..hardware.conversion import to_fixed_point

    return to_fixed_point(network, **kwargs).network


def write_lava_artifact(net: FixedPointNetwork, n_steps: int, path, *, record_state: bool = False) -> Path:
    """Write the self-contained ``.npz`` the Lava runner reads.

    Parameters
    ----------
    net : FixedPointNetwork
    n_steps : int
    path : str or Path
    record_state : bool

    Returns
    -------
    Path
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    pidx = {p.name: i for i, p in enumerate(net.populations)}
    iidx = {s.name: k for k, s in enumerate(net.inputs)}
    arrays = {
        "n_steps": np.int64(n_steps),
        "record_state": np.int64(bool(record_state)),
        "n_pops": np.int64(len(net.populations)),
        "n_inputs": np.int64(len(net.inputs)),
        "n_conns": np.int64(len(net.connections)),
    }
    for i, p in enumerate(net.populations):
        arrays.update(_converter(p)(p, i, n_steps))
    for k, s in enumerate(net.inputs):
        arrays.update(_converter(s)(s, k, n_steps))
    for j, c in enumerate(net.connections):
        kind, pre = (0, pidx[c.pre]) if c.pre in pidx else (1, iidx[c.pre])
        arrays.update(_converter(c)(c, j, n_steps, pre_kind=kind, pre=pre, post=pidx[c.post]))
    path = Path(path)
    np.savez(path, **arrays)
    return path


def run_in_lava(
    nets,
    n_steps: int,
    *,
    record_state: bool = False,
    python: str | None = None,
    timeout: float = 600.0,
    return_timing: bool = False,
):
    """Run one or several fixed-point networks in Lava (``fixed_pt``), in one subprocess.

    Parameters
    ----------
    nets : FixedPointNetwork or sequence of them
    n_steps : int
    record_state : bool
        Also return ``u``/``v`` recorded by Lava ``Monitor`` processes.
    python : str, optional
        A Python 3.10 interpreter with lava-nc (default: :func:`find_lava_python`).
    timeout : float
        Seconds before the subprocess is abandoned [s].
    return_timing : bool
        Also return a list of ``(build_s, run_s)`` measured inside the runner.

    Returns
    -------
    FixedPointResult, or a list of them when ``nets`` is a sequence
    (plus the timings when ``return_timing``).

    Raises
    ------
    LavaUnavailableError
        No Python 3.10 with Lava (the message says how to provide one).
    RuntimeError
        The runner failed; the message holds the end of its stderr.
    """
    single = isinstance(nets, FixedPointNetwork)
    nets = [nets] if single else list(nets)
    python = find_lava_python(python)
    with tempfile.TemporaryDirectory(prefix="memr_snn_lava_") as tmp:
        args = []
        for k, net in enumerate(nets):
            fin = Path(tmp) / f"in{k}.npz"
            write_lava_artifact(net, n_steps, fin, record_state=record_state)
            args += [str(fin), str(Path(tmp) / f"out{k}.npz")]
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        proc = subprocess.run(
            [python, "-I", str(RUNNER_PATH), *args], capture_output=True, text=True, timeout=timeout, env=env
        )
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"the Lava runner failed (exit {proc.returncode}):\n{tail}")
        results, timing = [], []
        for k, net in enumerate(nets):
            with np.load(Path(tmp) / f"out{k}.npz", allow_pickle=False) as z:
                names = [p.name for p in net.populations]
                spikes = {nm: z[f"pop{i}_spikes"].astype(bool) for i, nm in enumerate(names)}
                u = {nm: z[f"pop{i}_u"] for i, nm in enumerate(names)} if record_state else {}
                v = {nm: z[f"pop{i}_v"] for i, nm in enumerate(names)} if record_state else {}
                timing.append((float(z["build_s"]), float(z["run_s"])))
            results.append(FixedPointResult(spikes, u, v))
    out = results[0] if single else results
    return (out, timing) if return_timing else out


def export_lava(network, path, n_steps: int, *, record_state: bool = False, **convert_kwargs) -> Path:
    """Export a network as a Lava artifact (``.npz``) runnable by the runner script.

    Parameters
    ----------
    network : FixedPointNetwork or memr_snn.Network
        A float network is quantized first with
        :func:`memr_snn.hardware.to_fixed_point` (``convert_kwargs`` go there);
        elements Lava cannot express raise :class:`LavaExportError`.
    path : str or Path
    n_steps : int
        Length of the input rasters written into the artifact.

    Returns
    -------
    Path
    """
    net = _as_fixed_point(network, **convert_kwargs)
    return write_lava_artifact(net, n_steps, path, record_state=record_state)


def read_lava_artifact(path) -> tuple[FixedPointNetwork, int, bool]:
    """Read an artifact written by :func:`write_lava_artifact` back into a network.

    Population and input names are restored (``pop{i}``/``in{k}`` when absent).

    Returns
    -------
    (FixedPointNetwork, n_steps, record_state)

    Raises
    ------
    ValueError
        If the file is not a readable artifact (the message names the problem).
    """
    from ..hardware.fixed_point import LoihiLIFParams

    inv_sign = {v: k for k, v in _SIGN_MODE_VALUES.items()}
    try:
        with np.load(path, allow_pickle=False) as z:
            a = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable .npz Lava artifact ({exc})") from None
    def name(key):
        return str(a[key + "_name"]) if key + "_name" in a else key

    try:
        n_steps = int(a["n_steps"])
        pops = []
        for i in range(int(a["n_pops"])):
            params = LoihiLIFParams(
                du=int(a[f"pop{i}_du"]),
                dv=int(a[f"pop{i}_dv"]),
                vth=int(a[f"pop{i}_vth"]),
                bias_mant=a[f"pop{i}_bias_mant"],
                bias_exp=a[f"pop{i}_bias_exp"],
            )
            n = int(a[f"pop{i}_n"])
            pops.append(FixedPointPopulation(name(f"pop{i}"), n, params, a[f"pop{i}_u0"], a[f"pop{i}_v0"]))
        inputs = [SpikeInput(name(f"in{k}"), a[f"in{k}_spikes"].T.astype(bool)) for k in range(int(a["n_inputs"]))]
        conns = []
        for j in range(int(a["n_conns"])):
            pre = int(a[f"c{j}_pre"])
            pre = pops[pre].name if int(a[f"c{j}_pre_kind"]) == 0 else inputs[pre].name
            conns.append(
                FixedPointConnection(
                    pre,
                    pops[int(a[f"c{j}_post"])].name,
                    a[f"c{j}_weights"],
                    weight_exp=int(a[f"c{j}_weight_exp"]),
                    num_weight_bits=int(a[f"c{j}_num_weight_bits"]),
                    sign_mode=inv_sign[int(a[f"c{j}_sign_mode"])],
                    delays=a[f"c{j}_delays"],
                    saturate=True,
                )
            )
        return FixedPointNetwork(pops, inputs, conns), n_steps, bool(int(a["record_state"]))
    except KeyError as exc:
        raise ValueError(f"{path}: Lava artifact is missing array {exc}") from None
