r"""The steady-state Kalman filter with its matrix-vector products on analog in-memory tiles (:mod:`memr_snn.aimc`).

:class:`AIMCKalmanDecoder` fits like :class:`~memr_snn.bci.kalman.SteadyStateKalmanFilter`
(same least squares, same DARE gain) and then writes its two matrices onto AIMC tiles:

.. math::

    \hat{\mathbf v}_t = \underbrace{F\,\hat{\mathbf v}_{t-1}}_{\text{tile } F\ (2\times 2)}
        + \underbrace{K_\infty \mathbf z_t}_{\text{tile } K\ (2\times n)} - K_\infty\mathbf d,
    \qquad F = (I - K_\infty H) A,

with the constant :math:`-K_\infty \mathbf d` as the digital bias of the gain tile.  The 2x2 product
:math:`F\hat{\mathbf v}` stays digital unless ``analog_state`` (see there).  Every bin runs the
analog products through the periphery (DAC, device reads, output noise, ADC; ``io``) on devices of
``device`` read ``device_time`` seconds after programming (drift; read noise drawn per snapshot,
:meth:`memr_snn.aimc.AnalogModel.set_time`).  :meth:`AIMCKalmanDecoder.energy` prices the
products run since the last :meth:`~AIMCKalmanDecoder.reset_counters` with an AIMC energy profile.
:meth:`AIMCKalmanDecoder.device_health` read-verifies the next rows of every tile against its programming
(:class:`~memr_snn.bci.health.TileVerifier`: devices newly stuck, weight error from drift and relaxation);
:class:`~memr_snn.bci.safety.SafeDecoder` polls it, and :meth:`~AIMCKalmanDecoder.energy` prices its reads
(``verify_J``: the devices' read energy, a DAC conversion per row and an ADC conversion per device).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from memr_snn import aimc
from memr_snn._validation import check_nonnegative

from .health import HealthReport, TileVerifier, VerifyParams
from .kalman import SteadyStateKalmanFilter

__all__ = ["AIMCKalmanDecoder"]


class AIMCKalmanDecoder(SteadyStateKalmanFilter):
    r"""Steady-state Kalman filter whose products run on analog tiles (module docstring).

    Parameters
    ----------
    device : str or DevicePreset or None
        Device preset of the tiles (default ``"hfox_rram"``; None: the ideal device).
    io : str or memr_snn.aimc.IOConfig
        Periphery (default ``"aihwkit_inference"``: 7-bit DAC, 9-bit ADC, output noise 0.06).
    device_time : float
        Time from programming to the reads [s] (drift).
    seed : int
        Seed of programming and noise.
    analog_state : bool
        Run the 2x2 state product :math:`F\hat{\mathbf v}` on a tile too (default: digital, 4 MACs).  The
        filter's recursion amplifies an error of :math:`F` by about :math:`1/(1 - \lambda_{max}(F))`
        (~10-20 here): with HfOx RRAM the analog :math:`F` shrinks the decoded velocity by about half.
    q_reg, memory : float
        As :class:`~memr_snn.bci.kalman.KalmanFilter`.

    Attributes
    ----------
    gain_tile_, state_tile_ : memr_snn.aimc.AnalogModel
        The compiled tiles of :math:`K_\infty` and of :math:`F` (None unless ``analog_state``).
    """

    def __init__(self, device: Any = "hfox_rram", io: Any = "aihwkit_inference", device_time: float = 0.0,
                 seed: int = 0, analog_state: bool = False, q_reg: float = 1e-3, memory: float = 1.0) -> None:
        super().__init__(q_reg=q_reg, memory=memory, track_innovation=False)
        self.analog_state = analog_state
        self.device = device
        self.io = io
        self.device_time = device_time
        self.seed = seed

    def get_params(self) -> dict:
        return {**super().get_params(), "device": self.device, "io": self.io, "device_time": self.device_time,
                "seed": self.seed, "analog_state": self.analog_state}

    def _solve(self) -> None:
        super()._solve()
        check_nonnegative("device_time", self.device_time, "s")
        self.gain_tile_ = aimc.compile([{"type": "linear", "weight": self.steady_gain_, "bias": -self._Kd}],
                                       device=self.device, io=self.io, seed=self.seed)
        self.state_tile_ = (aimc.compile([{"type": "linear", "weight": self._F}], device=self.device, io=self.io,
                                         seed=self.seed + 1) if self.analog_state else None)
        self.set_time(self.device_time)
        self.steps_ = 0
        self._verifiers = tuple(TileVerifier(m.matrix, i, VerifyParams(seed=self.seed + j), name=f"{m.name}/{i}")
                                for j, model in enumerate(self._tiles()) for m in model.analog_layers
                                for i in range(len(m.matrix.tiles)))
        self._verify = {"reads": 0, "rows": 0, "energy": 0.0}

    def device_health(self, full: bool = False) -> HealthReport:
        """Read-verify the next rows (with ``full``: every row) of every tile in its present snapshot against its
        programming (:class:`~memr_snn.bci.health.TileVerifier`); the reads are counted for :meth:`energy`
        (``verify_J``)."""
        rep = HealthReport(tuple(v.poll(full=full) for v in self._verifiers))
        self._verify["reads"] += rep.checked
        self._verify["rows"] += rep.rows
        self._verify["energy"] += rep.read_energy
        return rep

    def _tiles(self) -> tuple:
        return (self.gain_tile_,) if self.state_tile_ is None else (self.gain_tile_, self.state_tile_)

    def set_time(self, t: float) -> None:
        """Read the tiles ``t`` seconds after programming (drift and a new read-noise snapshot)."""
        check_nonnegative("t", t, "s")
        for model in self._tiles():
            model.set_time(float(t))

    def step(self, x) -> np.ndarray:
        """One bin on the tiles: ``F v + K z - K d``; returns the velocity ``(2,)`` [m/s]."""
        z = self._check_bin(x)
        if not self.analog_state:
            fv = self._F @ self.state_
        elif np.any(self.state_):
            fv = self.state_tile_(self.state_.reshape(1, 2))[0]
        else:  # a zero vector reads zero (and abs_max scaling of it is undefined)
            fv = np.zeros(2)
        self.state_ = fv + self.gain_tile_(z.reshape(1, -1))[0]
        self.cov_ = self.steady_cov_
        self.steps_ += 1
        return self.state_.copy()

    def reset_counters(self) -> None:
        """Zero the tiles' read and conversion counters (and the step count)."""
        for model in self._tiles():
            model.reset_counters()
        self.steps_ = 0
        self._verify = {"reads": 0, "rows": 0, "energy": 0.0}

    def energy(self, profile: str = "hermes_pcm") -> dict[str, float]:
        """Inference energy [J] and latency [s] per decoded bin since :meth:`reset_counters`, by component.

        Programming is left out (one-off; :attr:`program_stats`).
        """
        out: dict[str, float] = {}
        latency = 0.0
        for model in self._tiles():
            rep = model.energy(profile, include_program=False).total
            for k, v in rep.energy.items():
                out[k] = out.get(k, 0.0) + v
            latency += rep.latency
        n = max(self.steps_, 1)
        per = {f"{k}_J": v / n for k, v in out.items() if k != "program"}
        p = aimc.load_profile(profile) if isinstance(profile, str) else profile
        bits = self.gain_tile_.analog_layers[0].matrix.io.adc.bits
        v = self._verify
        per["verify_J"] = (v["energy"] + p.e_dac * v["rows"] + p.e_adc(bits) * v["reads"]) / n
        per["total_J"] = sum(per.values())
        per["latency_s"] = latency / n
        return per

    @property
    def program_stats(self) -> dict[str, float]:
        """Programming totals of both tiles (devices, pulses, verify reads, energy [J], latency [s])."""
        tot: dict[str, float] = {}
        for model in self._tiles():
            for k, v in model.program_stats.items():
                tot[k] = tot.get(k, 0) + v
        return tot
