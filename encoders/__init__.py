"""Spike encoders, installed as ``memr_snn.encoders``.

Every encoder is a pure function returning **one** representation: a ``uint8`` array of spike
counts per time step with the time axis inserted second to last, ``x`` of shape
``(..., n_channels)`` giving ``(..., n_steps, n_out_channels)`` (a batch ``(n_samples, n_channels)``
gives ``(n_samples, n_steps, n_out_channels)``, the layout of
:class:`memr_snn.learning.sensory.ClassificationData`).  :func:`to_events` converts one sample's
train to the ``(times, indices)`` lists of :class:`memr_snn.SpikeSource`.  Random encoders take
``rng: numpy.random.Generator | int | None``.

* :func:`poisson_rate`, :func:`regular_rate`, :func:`bernoulli` -- rate coding (:mod:`.rate`);
* :func:`latency` -- time to first spike, linear or logarithmic (:mod:`.latency_code`);
* :func:`delta`, :func:`delta_decode` -- send-on-delta with ON/OFF channels (:mod:`.delta_code`);
* :func:`population` -- Gaussian receptive fields, then latency or rate (:mod:`.population_code`);
* :func:`burst` -- burst coding (:mod:`.burst_code`);
* :func:`emulate_dvs`, :func:`saccades`, :class:`EventStream`, :func:`read_events` -- event cameras:
  emulator, event arrays and utilities, N-MNIST/AEDAT readers (:mod:`.dvs`, :mod:`.events`,
  :mod:`.readers`);
* :func:`cochlea_encode`, :func:`load_wav` -- cochlear front end for audio (:mod:`.audio`);
* :mod:`.datasets` -- built-in DVS and spoken digits (generated on first use, cached), MNIST IDX files.

The package attributes ``latency``, ``delta``, ``population`` and ``burst`` are the functions of
those names (``from memr_snn.encoders import latency`` gives the function); their modules are
``latency_code``, ``delta_code``, ``population_code`` and ``burst_code`` (``import
memr_snn.encoders.latency_code``).  The old module names ``memr_snn.encoders.latency`` etc. stay
importable as aliases of those modules (``from memr_snn.encoders.latency import latency_times``), but
as attributes they are the functions.

Examples
--------
>>> import numpy as np
>>> from memr_snn.encoders import poisson_rate, to_events
>>> spikes = poisson_rate(np.array([0.2, 0.9]), n_steps=100, dt=1e-3, max_rate=200.0, rng=1)
>>> spikes.shape
(100, 2)
>>> times, indices = to_events(spikes, dt=1e-3)
"""


import sys as _sys

from memr_snn._tree import check_same_tree as _check_same_tree

from .audio import CochleaParams, WavFormatError, cochlea_encode, cochleagram, erb, erb_space, load_wav
from .burst_code import burst, burst_parameters
from .convert import from_events, to_events
from .delta_code import delta, delta_decode
from .dvs import DVSParams, emulate_dvs, saccades
from .events import EVENT_DTYPE, EventError, EventStream
from .latency_code import latency, latency_times
from .population_code import gaussian_activations, population, receptive_fields
from .rate import bernoulli, poisson_rate, regular_rate
from .readers import EventFileError, from_tonic, read_events

_check_same_tree(__file__, "encoders")  # memr_snn and this package from one tree (memr_snn/_tree.py)

# The modules were named after their functions, which shadowed them as package attributes
# (``import memr_snn.encoders.latency as m`` gave the function).  They are now ``*_code``; the old
# module names stay importable as aliases.
for _name in ("latency", "delta", "population", "burst"):
    _sys.modules[f"{__name__}.{_name}"] = _sys.modules[f"{__name__}.{_name}_code"]
del _name

__all__ = [
    # spike encoders
    "bernoulli",
    "poisson_rate",
    "regular_rate",
    "latency",
    "latency_times",
    "delta",
    "delta_decode",
    "population",
    "receptive_fields",
    "gaussian_activations",
    "burst",
    "burst_parameters",
    "to_events",
    "from_events",
    # event cameras (docs/dvs.md)
    "DVSParams",
    "emulate_dvs",
    "saccades",
    "EVENT_DTYPE",
    "EventError",
    "EventStream",
    "EventFileError",
    "from_tonic",
    "read_events",
    # audio (docs/audio.md)
    "CochleaParams",
    "WavFormatError",
    "cochlea_encode",
    "cochleagram",
    "erb",
    "erb_space",
    "load_wav",
]
