"""Built-in sweep experiments (listed in :data:`memr_snn.sweep.experiments.BUILTIN_EXPERIMENTS`).

:func:`cuba_stuck_faults` -- fault injection in the CUBA Vogels-Abbott network stored in memristive
crossbars: a fraction ``fault_rate`` of the devices is stuck at ``g_max`` (ON) or ``g_min`` (OFF), and the
network's mean firing rate is compared with the same network on fault-free devices.  The two runs share the
network seed (connectivity, initial state) and the device seed (variability, read noise), so at
``fault_rate = 0`` the deviation is exactly 0, and with the same seed a larger fault rate adds faults to
the smaller one's (the stuck devices are those whose uniform draw falls below the rate).
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_int_at_least, check_positive, check_probability
from ..devices import Crossbar, StuckFaults
from ..devices.report import device_report
from ..networks.vogels_abbott import cuba

__all__ = ["cuba_stuck_faults"]


def _cuba_rate(n: int, duration: float, net_seed: int, crossbar: Crossbar) -> tuple[float, int, int]:
    va = cuba(n=n, seed=net_seed, device=crossbar)
    va.net.run(duration, progress=False)
    report = device_report(va.net)
    return va.mean_rate(), sum(r.devices for r in report.rows), sum(r.faulty_devices for r in report.rows)


def cuba_stuck_faults(*, seed: int, fault_rate: float = 0.0, n: int = 2000, duration: float = 1.0,
                      preset: str = "hfox_rram", on_fraction: float = 0.5) -> dict[str, float | int]:
    """Mean-rate deviation of the crossbar CUBA network with stuck-at faults from the fault-free network.

    Parameters
    ----------
    seed : int
        Seeds the network (connectivity, initial potentials) and the devices (variability, faults, read
        noise), through two words of ``numpy.random.SeedSequence(seed)``.
    fault_rate : float
        Fraction of devices stuck, in ``[0, 1]``.
    n : int
        Neurons (80 % excitatory), ``>= 5``.
    duration : float
        Simulated time [s], ``> 0``.
    preset : str
        Device preset of all four projections (``memr-snn devices list``); its own stuck-fault rates are
        replaced by this experiment's.
    on_fraction : float
        Fraction of the stuck devices stuck ON (at ``g_max``), in ``[0, 1]``; the rest are stuck OFF.

    Returns
    -------
    dict
        ``rate_hz`` (mean firing rate with faults [Hz]), ``rate_ref_hz`` (the same network and devices
        without faults), ``rate_deviation`` (``rate_hz / rate_ref_hz - 1``), ``abs_rate_deviation``,
        ``stuck_fraction`` (stuck devices counted after programming / devices), ``devices``.
    """
    check_probability("fault_rate", fault_rate)
    check_probability("on_fraction", on_fraction)
    check_int_at_least("n", n, 5)
    check_positive("duration", duration)
    net_seed, dev_seed = (int(s) for s in np.random.SeedSequence(seed).generate_state(2, np.uint32))
    faults = StuckFaults(p_stuck_on=fault_rate * on_fraction, p_stuck_off=fault_rate * (1.0 - on_fraction))
    rate, devices, stuck = _cuba_rate(n, duration, net_seed, Crossbar(preset=preset, faults=faults, seed=dev_seed))
    ref, _, _ = _cuba_rate(n, duration, net_seed, Crossbar(preset=preset, faults=StuckFaults(), seed=dev_seed))
    deviation = rate / ref - 1.0 if ref > 0 else math.nan
    return {"rate_hz": rate, "rate_ref_hz": ref, "rate_deviation": deviation, "abs_rate_deviation": abs(deviation),
            "stuck_fraction": stuck / devices if devices else math.nan, "devices": devices}
