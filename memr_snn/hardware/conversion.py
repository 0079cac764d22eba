r"""Float LIF networks <-> Loihi fixed point.

memr_snn's current-based LIF (:class:`memr_snn.LIFParams`, integrated exactly)
maps term by term onto Loihi's CUBA neuron.  With :math:`x = v - v_{rest}`,
:math:`p_m = e^{-dt/\tau_m}`, :math:`p_s = e^{-dt/\tau_{syn}}` and
:math:`R = \tau_m / C`, one float step ``n`` is

.. math::

    i^{(n)} = p_s\, i^{(n-1)} + \textstyle\sum w, \qquad
    x^{(n)} = p_m\, x^{(n-1)} + E_1\, i^{(n)} + R\, i_{bias} (1 - p_m),

    E_1 = R \frac{\tau_s}{\tau_s - \tau_m}(p_s - p_m) \quad (\tau_s \neq \tau_m), \qquad
    E_1 = R \frac{dt}{\tau_m} p_m \quad (\tau_s = \tau_m),

which is Loihi's ``u' = u (4095 - du)/4096 + a``, ``v' = v (4096 - dv)/4096 + u' + b``
with, for a voltage scale :math:`s = 64\, v_{th} / (v_{threshold} - v_{rest})` [1/V]:

* ``du = round(4095 - 4096 p_s)``, ``dv = round(4096 (1 - p_m))`` (12 bits);
* ``u = s E_1 i``, ``v = s x``, ``bias_mant << bias_exp = round(s R i_bias (1 - p_m))``;
* a synapse of weight ``w`` [A] gives ``a = W << weight_exp`` with
  ``W << (weight_exp + 6) ~= s E_1 w`` (8-bit ``W``, exponent chosen per
  projection for the most precision);
* memr_snn's ``delays = d`` is Lava's ``delays = d - 1`` (one step is the
  Dense latency); the spike timing then matches step for step.

``vth`` (17 bits) is chosen as large as the 8-bit weights, 13-bit bias and
24-bit state allow, unless given.  What cannot be expressed is refused with
:class:`UnsupportedElementError` naming the element and the reason: other
neuron models (conductance synapses, ALIF, TSM), memristive or plastic
projections, Poisson sources, refractoriness, ``v_reset != v_rest``, two
receptors with different synaptic time constants, per-neuron time constants or
thresholds, delays beyond 64 steps.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np

from .conversion_check import _run_float_copy, spike_agreement
from .fixed_point import (
    MAX_DELAY,
    FixedPointConnection,
    FixedPointNetwork,
    FixedPointPopulation,
    FixedPointRangeError,
    FixedPointSaturationWarning,
    LoihiLIFParams,
    SpikeInput,
    preprocess_weights,
    run_fixed_point,
)

__all__ = [
    "UnsupportedElementError",
    "PopulationScaling",
    "ProjectionQuantization",
    "QuantizationReport",
    "FixedPointConversion",
    "to_fixed_point",
    "to_float",
    "spike_agreement",
]


class UnsupportedElementError(ValueError):
    """A network element has no Loihi fixed-point equivalent."""


@dataclasses.dataclass(frozen=True)
class PopulationScaling:
    """How one population was scaled (see the module docstring)."""

    name: str
    vth: int
    scale: float
    """Voltage scale ``s`` [1/V]: Loihi ``v`` = ``s * (v - v_rest)``."""
    du: int
    dv: int
    decay_u_error: float
    """Relative error of the current decay factor ``(4095 - du)/4096`` vs ``exp(-dt/tau_syn)``."""
    decay_v_error: float
    """Relative error of the voltage decay factor ``(4096 - dv)/4096`` vs ``exp(-dt/tau_mem)``."""
    bias_rms_error: float
    """RMS bias quantization error relative to the threshold distance (dimensionless)."""


@dataclasses.dataclass(frozen=True)
class ProjectionQuantization:
    """How one projection's weights were quantized."""

    name: str
    weight_exp: int
    sign_mode: str
    rms_error: float
    """RMS of (quantized - ideal) weight effect, relative to the largest ``|ideal|`` (dimensionless)."""
    max_error: float
    """Largest ``|quantized - ideal|`` weight effect, relative to the largest ``|ideal|``."""
    lava_delays_max: int


@dataclasses.dataclass(frozen=True)
class QuantizationReport:
    """Quantization errors and, when a comparison run was made, spike agreement."""

    dt: float
    populations: tuple
    projections: tuple
    n_steps_compared: int = 0
    float_spike_counts: dict = dataclasses.field(default_factory=dict)
    fixed_spike_counts: dict = dataclasses.field(default_factory=dict)
    agreement: dict = dataclasses.field(default_factory=dict)
    """Per population: coincidence fraction ``2 * matched / (n_float + n_fixed)`` (1.0 = identical trains)."""
    tolerance_steps: int = 1

    def summary(self) -> str:
        """A short human-readable table."""
        lines = [f"dt = {self.dt:g} s"]
        for p in self.populations:
            lines.append(
                f"population {p.name}: vth={p.vth} du={p.du} dv={p.dv} decay errors u {p.decay_u_error:.2e} "
                f"v {p.decay_v_error:.2e}, bias rms {p.bias_rms_error:.2e}"
            )
        for q in self.projections:
            lines.append(
                f"projection {q.name}: weight_exp={q.weight_exp} {q.sign_mode} rms {q.rms_error:.3e} "
                f"max {q.max_error:.3e}"
            )
        for name, a in self.agreement.items():
            lines.append(
                f"spikes {name}: float {self.float_spike_counts[name]} fixed {self.fixed_spike_counts[name]} "
                f"agreement {a:.3f} (+-{self.tolerance_steps} steps, {self.n_steps_compared} steps)"
            )
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class FixedPointConversion:
    """Result of :func:`to_fixed_point`."""

    network: FixedPointNetwork
    report: QuantizationReport


def _scalar(pop, field):
    val = np.asarray(getattr(pop.neuron, field), dtype=np.float64)
    if val.ndim and not np.all(val == val.flat[0]):
        raise UnsupportedElementError(
            f"population {pop.name!r}: per-neuron {field} is not expressible (Loihi has one value per population)"
        )
    return float(val.flat[0])


def _check_population(pop, dt, receptors_used):
    from ..neurons.lif import LIFParams

    if type(pop.neuron) is not LIFParams:
        kind = type(pop.neuron).__name__
        why = {
            "LIFCondParams": "conductance-based synapses have no Loihi equivalent (Loihi is current-based)",
            "ALIFParams": "adaptive thresholds (ALIF) are not part of Lava's LIF process",
            "TSMNeuronParams": "memristive threshold-switching neurons have no Loihi equivalent",
        }.get(kind, "only current-based LIFParams neurons map onto Loihi LIF")
        raise UnsupportedElementError(f"population {pop.name!r} ({kind}): {why}")
    problems = []  # every reason at once, so that one error says how to make the population exportable
    t_ref = _scalar(pop, "t_ref")
    if t_ref >= 0.5 * dt:
        problems.append(f"t_ref={t_ref:g} s is a refractory period, which Lava 0.10's bit-accurate LIF does not "
                        f"have (its LIFRefractory has no fixed-point model): set t_ref=0")
    v_rest, v_reset = _scalar(pop, "v_rest"), _scalar(pop, "v_reset")
    if v_reset != v_rest:
        problems.append(f"v_reset={v_reset:g} V differs from v_rest={v_rest:g} V; Loihi resets v to its rest value "
                        f"0: set v_reset=v_rest")
    taus = {r: _scalar(pop, f"tau_syn_{'e' if r == 'exc' else 'i'}") for r in receptors_used or {"exc"}}
    if len(set(taus.values())) > 1:
        problems.append(f"receptors {sorted(taus)} have different synaptic time constants {taus}; Loihi has one "
                        f"current decay du per population: set tau_syn_e=tau_syn_i")
    if problems:
        raise UnsupportedElementError(
            f"population {pop.name!r}: " + "; ".join(problems)
            + " (docs/hardware.md, 'Making a network exportable')"
        )
    return next(iter(taus.values()))


def _e1(tau_m, tau_s, c_mem, dt):
    r = tau_m / c_mem
    pm, ps = math.exp(-dt / tau_m), math.exp(-dt / tau_s)
    if abs(tau_s - tau_m) <= 1e-12 * tau_m:
        return r * dt / tau_m * pm
    return r * tau_s / (tau_s - tau_m) * (ps - pm)


def _bias_split(b: np.ndarray):
    """Ideal bias ``b`` -> (mantissa in [-4096, 4095], exponent in [0, 7]), smallest exponent that fits."""
    mant = np.zeros(b.shape, np.int64)
    exp = np.zeros(b.shape, np.int64)
    todo = np.ones(b.shape, bool)
    for e in range(8):
        m = np.round(b / 2**e)
        sel = todo & (m >= -4096) & (m <= 4095)
        mant[sel], exp[sel] = m[sel], e
        todo &= ~sel
    if np.any(todo):
        raise FixedPointRangeError("bias does not fit a 13-bit mantissa << 3-bit exponent at this vth; lower vth")
    return mant, exp


def _choose_wexp(q: np.ndarray, mode: str, name: str, saturate: bool) -> int:
    top = 254 if mode == "mixed" else 255
    qmax = float(np.max(np.abs(q))) if q.size else 0.0
    if qmax == 0.0:
        return 0
    for e in range(-8, 8):
        if qmax / 2 ** (e + 6) <= top:
            return e
    if not saturate:
        raise FixedPointRangeError(
            f"projection {name!r}: weights are too large for 8 bits << weight_exp 7 at this vth; lower vth "
            f"or pass saturate=True"
        )
    warnings.warn(f"projection {name!r}: weights saturated at 8 bits", FixedPointSaturationWarning, stacklevel=3)
    return 7


def _quantize(q, e, mode):
    x = q / 2 ** (e + 6)
    if mode == "mixed":
        w = 2 * np.round(x / 2)  # mixed-sign weights lose their LSB in Lava
        return np.clip(w, -256, 254).astype(np.int64)
    lo, hi = (0, 255) if mode == "excitatory" else (-255, 0)
    return np.clip(np.round(x), lo, hi).astype(np.int64)


def _spike_steps(src, dt):
    steps = np.rint(np.asarray(src.times) / dt).astype(np.int64)
    return steps, np.asarray(src.indices, np.int64)


def to_fixed_point(
    net,
    *,
    vth: int | dict | None = None,
    n_steps: int | None = None,
    compare: bool = True,
    tolerance_steps: int = 1,
    saturate: bool = False,
) -> FixedPointConversion:
    """Quantize a float :class:`memr_snn.Network` of current-based LIF neurons to Loihi fixed point.

    Parameters
    ----------
    net : memr_snn.Network
        Populations of :class:`memr_snn.LIFParams` with ``t_ref = 0`` and
        ``v_reset = v_rest``, :class:`memr_snn.SpikeSource` inputs and plain
        projections (already added, so their synapses exist).
    vth : int or dict, optional
        Loihi threshold mantissa (1..131071) for all populations, or per
        population (name -> int; missing names are chosen automatically); by
        default the largest the 8-bit weights, bias and 24-bit state allow.
    n_steps : int, optional
        Input raster length and, with ``compare``, the length of the
        comparison run (default: up to the last input spike + 100 steps).
    compare : bool
        Run a float copy of the network and the fixed-point network and report
        spike agreement.
    tolerance_steps : int
        Two spikes of one neuron match when at most this many steps apart.
    saturate : bool
        Saturate out-of-range values with a warning instead of raising.

    Returns
    -------
    FixedPointConversion
        ``.network`` (:class:`FixedPointNetwork`) and ``.report``
        (:class:`QuantizationReport`).

    Raises
    ------
    UnsupportedElementError
        Naming the element and why Loihi cannot express it.
    """
    from ..model.population import Population, SpikeSource

    dt = net.dt
    used = {}
    for proj in net.projections:
        used.setdefault(id(proj.post), set()).add(proj.receptor)
    sources = [p for p in net.populations if not isinstance(p, Population)]
    for src in sources:
        if not isinstance(src, SpikeSource):
            raise UnsupportedElementError(
                f"source {src.name!r} ({type(src).__name__}): only SpikeSource inputs with fixed spike times can be "
                f"exported (a PoissonSource draws inside the engine; record its spikes into a SpikeSource)"
            )
    neurons = [p for p in net.populations if isinstance(p, Population)]
    if not neurons:
        raise UnsupportedElementError("the network has no neuron population")
    last = 0
    for src in sources:
        steps, _ = _spike_steps(src, dt)
        if steps.size:
            last = max(last, int(steps.max()) + 1)
    if n_steps is None:
        n_steps = last + 100
    info = {}
    for pop in neurons:
        tau_s = _check_population(pop, dt, used.get(id(pop), set()))
        tau_m, c_mem = _scalar(pop, "tau_mem"), _scalar(pop, "c_mem")
        v_rest, v_th = _scalar(pop, "v_rest"), _scalar(pop, "v_threshold")
        info[id(pop)] = dict(
            tau_s=tau_s, tau_m=tau_m, c=c_mem, v_rest=v_rest, dv_th=v_th - v_rest, e1=_e1(tau_m, tau_s, c_mem, dt)
        )
    for proj in net.projections:
        label = proj.name or f"{proj.pre.name}->{proj.post.name}"
        if proj.device is not None:
            raise UnsupportedElementError(
                f"projection {label!r}: memristive crossbar weights (device non-idealities, read noise, drift) "
                f"cannot be expressed with Loihi's 8-bit weights"
            )
        if proj.plasticity is not None:
            raise UnsupportedElementError(f"projection {label!r}: on-line plasticity is not exported to Lava")
        if proj.indices is None:
            raise ValueError(f"projection {label!r} has no synapses yet: add it to the network first")
        d = proj.delays if proj.delays is not None else np.full(proj.n_synapses, proj.delay_uniform)
        if d.size and int(d.max()) - 1 > MAX_DELAY:
            raise UnsupportedElementError(
                f"projection {label!r}: delays={int(d.max())} is beyond Loihi's range "
                f"(1..{MAX_DELAY + 1} steps: one step of Dense latency plus a 6-bit DelayDense delay)"
            )
    # --- choose vth per population -------------------------------------------------
    vths = {}
    for pop in neurons:
        i = info[id(pop)]
        given = vth.get(pop.name) if isinstance(vth, dict) else vth
        if given is not None:
            if isinstance(given, bool) or not isinstance(given, (int, np.integer)) or not 1 <= given <= 131071:
                raise FixedPointRangeError(f"vth for population {pop.name!r} must be an integer in [1, 131071], "
                                           f"got {given!r}")
            vths[id(pop)] = int(given)
            continue
        limit = 131071.0
        r_max = 0.0
        for proj in net.projections:
            if proj.post is pop and proj.n_synapses:
                r_max = max(r_max, float(np.max(np.abs(proj.weights))) * abs(i["e1"]) / i["dv_th"])
        if r_max > 0:
            limit = min(limit, 254 * 128 / r_max)
        ib = np.abs(np.asarray(pop.neuron.i_bias, np.float64))
        b_rel = float(ib.max()) * i["tau_m"] / i["c"] * (1 - math.exp(-dt / i["tau_m"])) / i["dv_th"]
        if b_rel > 0:
            limit = min(limit, 4095 * 128 / 64 / b_rel)
        v0 = pop.initial.get("v")
        if v0 is not None:
            x = float(np.max(np.abs(v0 - i["v_rest"]))) / i["dv_th"]
            if x > 0:
                limit = min(limit, (2**23 - 1) / 64 / x)
        vths[id(pop)] = max(1, int(math.floor(limit)))
    # --- populations -----------------------------------------------------------------
    fx_pops, pop_reports = [], []
    for pop in neurons:
        i = info[id(pop)]
        vt = vths[id(pop)]
        s = 64 * vt / i["dv_th"]
        i["s"] = s
        ps, pm = math.exp(-dt / i["tau_s"]), math.exp(-dt / i["tau_m"])
        du = int(np.clip(round(4095 - 4096 * ps), 0, 4095))
        dv = int(np.clip(round(4096 * (1 - pm)), 0, 4095))
        b_ideal = s * i["tau_m"] / i["c"] * np.broadcast_to(np.asarray(pop.neuron.i_bias, np.float64), (pop.n,))
        # with the quantized leak (4096 - dv)/4096, so that the steady state
        # v_inf = s R i_bias is kept exactly (not only the first step)
        b_ideal = b_ideal * (dv / 4096)
        mant, bexp = _bias_split(np.array(b_ideal, np.float64))
        b_err = (mant << bexp) - b_ideal
        x0 = pop.initial.get("v")
        v0 = 0 if x0 is None else np.rint(s * (x0 - i["v_rest"])).astype(np.int64)
        i0 = sum(pop.initial.get(k, 0.0) for k in ("i_e", "i_i"))
        u0 = np.rint(s * i["e1"] * np.broadcast_to(i0, (pop.n,))).astype(np.int64)
        params = LoihiLIFParams(du=du, dv=dv, vth=vt, bias_mant=mant, bias_exp=bexp, saturate=saturate)
        fx_pops.append(FixedPointPopulation(pop.name, pop.n, params, u0=u0, v0=v0))
        pop_reports.append(
            PopulationScaling(
                pop.name,
                vt,
                s,
                du,
                dv,
                abs((4095 - du) / 4096 - ps) / ps,
                abs((4096 - dv) / 4096 - pm) / pm,
                float(np.sqrt(np.mean(b_err**2)) / (64 * vt)),
            )
        )
    # --- inputs ------------------------------------------------------------------------
    fx_inputs = []
    for src in sources:
        raster = np.zeros((n_steps, src.n), bool)
        steps, idx = _spike_steps(src, dt)
        keep = steps < n_steps
        raster[steps[keep], idx[keep]] = True
        fx_inputs.append(SpikeInput(src.name, raster))
    # --- projections -------------------------------------------------------------------
    fx_conns, proj_reports = [], []
    for proj in net.projections:
        label = proj.name or f"{proj.pre.name}->{proj.post.name}"
        i = info[id(proj.post)]
        pre = np.repeat(np.arange(proj.pre.n), np.diff(proj.indptr))
        post = proj.indices.astype(np.int64)
        q = i["s"] * i["e1"] * np.asarray(proj.weights, np.float64)
        mode = "mixed" if (q.min(initial=0) < 0 < q.max(initial=0)) else ("inhibitory" if q.min(initial=0) < 0
                                                                          else "excitatory")
        e = _choose_wexp(q, mode, label, saturate)
        wq = _quantize(q, e, mode)
        if (np.bincount(pre * proj.post.n + post).max(initial=0)) > 1:
            raise UnsupportedElementError(f"projection {label!r}: multiple synapses between one pair of neurons")
        w = np.zeros((proj.post.n, proj.pre.n), np.int64)
        w[post, pre] = wq
        d = proj.delays if proj.delays is not None else np.full(proj.n_synapses, proj.delay_uniform)
        dl = np.zeros((proj.post.n, proj.pre.n), np.int64)
        dl[post, pre] = np.asarray(d, np.int64) - 1
        eff = preprocess_weights(wq, mode, 8) * 2.0 ** (e + 6)
        den = float(np.max(np.abs(q))) if q.size and np.max(np.abs(q)) > 0 else 1.0
        fx_conns.append(FixedPointConnection(proj.pre.name, proj.post.name, w, weight_exp=e, sign_mode=mode,
                                             delays=dl, saturate=saturate))
        proj_reports.append(
            ProjectionQuantization(
                label,
                e,
                mode,
                float(np.sqrt(np.mean((eff - q) ** 2)) / den) if q.size else 0.0,
                float(np.max(np.abs(eff - q)) / den) if q.size else 0.0,
                int(dl.max(initial=0)),
            )
        )
    fx = FixedPointNetwork(fx_pops, fx_inputs, fx_conns)
    report = QuantizationReport(dt, tuple(pop_reports), tuple(proj_reports))
    if compare:
        float_spikes = _run_float_copy(net, n_steps)
        fixed = run_fixed_point(fx, n_steps)
        agree, fc, xc = {}, {}, {}
        for pop in neurons:
            a, b = float_spikes[pop.name], fixed.spikes[pop.name]
            agree[pop.name] = spike_agreement(a, b, tolerance_steps)
            fc[pop.name], xc[pop.name] = int(a.sum()), int(b.sum())
        report = dataclasses.replace(
            report, n_steps_compared=n_steps, float_spike_counts=fc, fixed_spike_counts=xc, agreement=agree,
            tolerance_steps=tolerance_steps,
        )
    return FixedPointConversion(fx, report)


def to_float(
    fx: FixedPointNetwork,
    dt: float,
    *,
    v_rest: float = -70e-3,
    v_threshold: float = -55e-3,
    c_mem: float = 250e-12,
):
    """Build a float :class:`memr_snn.Network` equivalent to a fixed-point one (for analysis).

    Inverts the mapping of :func:`to_fixed_point`: ``tau_syn = -dt / ln((4095 - du)/4096)``,
    ``tau_mem = -dt / ln((4096 - dv)/4096)``, ``v = v_rest + v_loihi / s`` with
    ``s = 64 vth / (v_threshold - v_rest)``; weights are the pre-processed
    integer weights times ``2**(weight_exp + 6) / (s E_1)``.  The float network
    does not reproduce the per-step flooring of a negative ``weight_exp`` nor
    the 24-bit wrap-around.

    Parameters
    ----------
    fx : FixedPointNetwork
    dt : float
        Time step [s].
    v_rest, v_threshold : float
        Voltages [V] that Loihi's 0 and ``vth << 6`` stand for.
    c_mem : float
        Membrane capacitance [F] (sets the current scale).

    Returns
    -------
    memr_snn.Network
        Populations named as in ``fx`` (LIFParams with ``t_ref = 0``),
        SpikeSources for the inputs, one projection per connection (receptor
        ``exc``), synapses built.

    Raises
    ------
    UnsupportedElementError
        ``dv = 0`` (a perfect integrator, no finite ``tau_mem``) or
        ``du = 4095`` (no current memory, ``tau_syn = 0``).
    """
    import scipy.sparse as sp

    from ..model.connectivity import FromSparse
    from ..model.network import Network
    from ..model.population import Population, SpikeSource
    from ..model.projection import Projection
    from ..neurons.lif import LIFParams

    net = Network(dt=dt, seed=0)
    objs, e1s, scales = {}, {}, {}
    for p in fx.populations:
        if p.params.dv == 0:
            raise UnsupportedElementError(f"population {p.name!r}: dv=0 is a perfect integrator (tau_mem = inf)")
        if p.params.du == 4095:
            raise UnsupportedElementError(f"population {p.name!r}: du=4095 keeps no synaptic current (tau_syn = 0)")
        tau_s = -dt / math.log((4095 - p.params.du) / 4096)
        tau_m = -dt / math.log((4096 - p.params.dv) / 4096)
        s = 64 * p.params.vth / (v_threshold - v_rest) if p.params.vth else 64 / (v_threshold - v_rest)
        e1 = _e1(tau_m, tau_s, c_mem, dt)
        pm = math.exp(-dt / tau_m)
        bias = p.params.effective_bias(p.n) / s / (tau_m / c_mem * (1 - pm))
        neuron = LIFParams(
            tau_mem=tau_m, c_mem=c_mem, v_rest=v_rest, v_reset=v_rest, v_threshold=v_rest + p.params.vth * 64 / s,
            t_ref=0.0, tau_syn_e=tau_s, tau_syn_i=tau_s, i_bias=bias if np.ptp(bias) else float(bias[0]),
        )
        initial = {"v": v_rest + np.broadcast_to(np.asarray(p.v0, float), (p.n,)) / s,
                   "i_e": np.broadcast_to(np.asarray(p.u0, float), (p.n,)) / (s * e1)}
        objs[p.name] = net.add(Population(p.n, neuron, name=p.name, initial=initial))
        e1s[p.name], scales[p.name] = e1, s
    for inp in fx.inputs:
        steps, idx = np.nonzero(inp.spikes)
        objs[inp.name] = net.add(SpikeSource(inp.n, steps * dt, idx, name=inp.name))
    for k, c in enumerate(fx.connections):
        pre, post, w, d = c.synapses()
        keep = w != 0
        vals = w[keep] * 2.0 ** (c.weight_exp + 6) / (scales[c.post] * e1s[c.post])
        # FromSparse generates synapses in coo order, so the delays follow the same order
        m = sp.coo_matrix((vals, (post[keep], pre[keep])), shape=c.shape)
        delays = (d[keep] + 1).astype(np.int64)
        net.add(Projection(objs[c.pre], objs[c.post], FromSparse(m), delays=delays if delays.size else 1,
                           name=f"c{k}:{c.pre}->{c.post}"))
    return net
