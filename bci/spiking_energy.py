r"""Energy per decode step of the spiking crossbar decoder: device reads and the periphery around them.

The decoder (:class:`~memr_snn.bci.spiking.SpikingCrossbarDecoder`) counts, per decoded bin, the
rows it drives and the crossbar evaluations it needs; the device layer counts the device reads
and their energy :math:`\sum V_{read}^2 G\, t_{read}` (the kernel accumulates it at every read).
With :math:`H` hidden neurons, 2 readout neurons, :math:`B` bins, :math:`r_{in}` relay spikes (rows of
the input crossbar driven), :math:`r_{out}` hidden spikes (rows of the readout crossbar driven),
:math:`b_{in}` bins with at least one relay spike and :math:`b_{out}` bins with at least one hidden
spike:

.. math::

    E = E_{reads} + e_{row} (r_{in} + r_{out}) + e_{conv} (H b_{in} + 2 b_{out})
        + e_{act} (H b_{in} + 2 b_{out}) + e_{inact} (H (B - b_{in}) + 2 (B - b_{out})) + 2 B\, e_{op}
        + E_{verify}

The assumptions behind each term (the constants' sources are in :attr:`SpikingEnergyProfile.sources`):

* **rows** -- every spike of a relay (hidden) neuron drives its row of the input (readout)
  crossbar once, as a word-line driver does: ``e_row`` is the row driver of the AIMC profile
  (``e_dac``, one conversion per row per read there);
* **sense** -- the rows active in a bin are driven together and each differential column pair is
  converted once per bin in which its crossbar has at least one active row (assumed; as the AIMC
  tile model's one read per matrix-vector product): ``e_conv`` is one conversion of the AIMC
  profile's ADC, :math:`P_{ADC}\, 2^{8}\, t_{ADC}` (its current-controlled oscillator runs for the
  :math:`2^8` steps of an 8-bit conversion);
* **neurons** -- the hidden and readout neurons are digital neuron updates, once per bin, priced
  as a neuromorphic core's compartment update (``e_neuron_active`` when the neuron received input
  in the bin, ``e_neuron_inactive`` otherwise); the relays are the thermometer code's row
  drivers, not neurons;
* **digital** -- the readout's two bias additions per bin (``e_digital_op`` of the AIMC profile);
* **verify** (only when the decoder's health is polled,
  :meth:`~memr_snn.bci.spiking.SpikingCrossbarDecoder.device_health`) -- the read-verify of :math:`v_{rd}`
  devices in :math:`v_{row}` rows: their read energy :math:`E_{verify}`
  (the same :math:`V_{read}^2 G\, t_{read}`), a row drive per row and a conversion per device (each
  device is sensed on its own): :math:`E_{verify} + e_{row} v_{row} + e_{conv} v_{rd}`;
* left out: static power, spike routing between cores, the host.
"""

from __future__ import annotations

import dataclasses

from memr_snn._validation import check_nonnegative

__all__ = ["SpikingEnergyProfile", "spiking_energy", "COUNTER_KEYS", "VERIFY_KEYS"]

#: counters the decoder keeps (and :func:`spiking_energy` prices)
COUNTER_KEYS = ("bins", "rows_in", "rows_out", "active_in", "active_out", "reads", "read_energy")
#: counters of the health checks' read-verify (optional in :func:`spiking_energy`: 0 when absent)
VERIFY_KEYS = ("verify_reads", "verify_rows", "verify_energy")


@dataclasses.dataclass(frozen=True)
class SpikingEnergyProfile:
    """Per-operation energies [J] of the spiking crossbar's periphery, each with its source."""

    e_row: float
    """Row driver, per driven row [J]."""
    e_conv: float
    """One column conversion (sense / ADC) [J]."""
    e_neuron_active: float
    """Digital neuron update with input in the bin [J]."""
    e_neuron_inactive: float
    """Digital neuron update without input [J]."""
    e_digital_op: float
    """One digital operation (bias addition) [J]."""
    sources: dict = dataclasses.field(default_factory=dict, compare=False)
    """Where each constant comes from (name -> text)."""

    def __post_init__(self) -> None:
        for f in ("e_row", "e_conv", "e_neuron_active", "e_neuron_inactive", "e_digital_op"):
            check_nonnegative(f, getattr(self, f), "J")

    @classmethod
    def from_profiles(cls, aimc: str = "hermes_pcm", cores: str = "loihi1") -> SpikingEnergyProfile:
        """Constants from an AIMC chip profile (:func:`memr_snn.aimc.load_profile`: row driver, ADC,
        digital op) and a neuromorphic core profile (:func:`memr_snn.hardware.profiles.load_profile`:
        neuron updates)."""
        from memr_snn.aimc import load_profile as load_aimc
        from memr_snn.hardware.profiles import load_profile as load_cores

        a, c = load_aimc(aimc), load_cores(cores)
        conv_bits = 8
        e_conv = float(a.p_adc) * 2 ** conv_bits * float(a.t_adc)
        src = {
            "e_row": f"{aimc} e_dac ({a.provenance.get('e_dac', 'assumed')}): {a.sources.get('e_dac', '')}",
            "e_conv": (f"derived: {aimc} p_adc x 2**{conv_bits} x t_adc = {a.p_adc:g} W x {2 ** conv_bits} x "
                       f"{a.t_adc:g} s; p_adc ({a.provenance.get('p_adc', 'assumed')}): {a.sources.get('p_adc', '')}"
                       f"; t_adc ({a.provenance.get('t_adc', 'assumed')}): {a.sources.get('t_adc', '')}"),
            "e_neuron_active": f"{cores}: {c.sources.get('e_neuron_active', '')}",
            "e_neuron_inactive": f"{cores}: {c.sources.get('e_neuron_inactive', '')}",
            "e_digital_op": (f"{aimc} e_digital_op ({a.provenance.get('e_digital_op', 'assumed')}): "
                             f"{a.sources.get('e_digital_op', '')}"),
            "conversion per column and bin": "assumed (module docstring of memr_snn.bci.spiking_energy)",
        }
        return cls(e_row=float(a.e_dac), e_conv=e_conv, e_neuron_active=float(c.e_neuron_active),
                   e_neuron_inactive=float(c.e_neuron_inactive), e_digital_op=float(a.e_digital_op), sources=src)


def spiking_energy(counters: dict, n_hidden: int, profile: SpikingEnergyProfile | None = None) -> dict[str, float]:
    """Energy of the decoded bins counted in ``counters`` (:data:`COUNTER_KEYS`), by term (module docstring).

    Returns
    -------
    dict
        ``reads``, ``rows``, ``sense``, ``neurons``, ``digital``, ``verify``, ``total`` [J] over the counted
        bins, ``per_bin`` [J] (``total / bins``; NaN without bins) and the counters.
    """
    missing = [k for k in COUNTER_KEYS if k not in counters]
    if missing:
        raise ValueError(f"counters lack {missing}; expected the keys {list(COUNTER_KEYS)}")
    p = profile if profile is not None else SpikingEnergyProfile.from_profiles()
    B, H = counters["bins"], int(n_hidden)
    a_in, a_out = counters["active_in"], counters["active_out"]
    evals = H * a_in + 2 * a_out
    out = {
        "reads": float(counters["read_energy"]),
        "rows": p.e_row * (counters["rows_in"] + counters["rows_out"]),
        "sense": p.e_conv * evals,
        "neurons": p.e_neuron_active * evals + p.e_neuron_inactive * (H * (B - a_in) + 2 * (B - a_out)),
        "digital": p.e_digital_op * 2 * B,
        "verify": (float(counters.get("verify_energy", 0.0)) + p.e_row * counters.get("verify_rows", 0)
                   + p.e_conv * counters.get("verify_reads", 0)),
    }
    out["total"] = sum(out.values())
    out["per_bin"] = out["total"] / B if B else float("nan")
    return out | {f"count_{k}": counters[k] for k in COUNTER_KEYS} | {f"count_{k}": counters.get(k, 0)
                                                                       for k in VERIFY_KEYS}
