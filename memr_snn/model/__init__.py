"""Declarative model: network, populations, projections, connectivity, monitors (no numerics)."""

from .connectivity import (
    AllToAll,
    Connectivity,
    FixedInDegree,
    FixedProbability,
    FromArrays,
    FromSparse,
    OneToOne,
)
from .monitors import Monitor, RateMonitor, SpikeMonitor, StateMonitor
from .network import ENGINES, Network
from .population import PoissonSource, Population, PopulationBase, SpikeSource
from .projection import Projection

__all__ = [
    "Network", "ENGINES",
    "Population", "PoissonSource", "SpikeSource", "PopulationBase",
    "Projection",
    "Connectivity", "AllToAll", "OneToOne", "FixedProbability", "FixedInDegree", "FromArrays", "FromSparse",
    "Monitor", "SpikeMonitor", "StateMonitor", "RateMonitor",
]
