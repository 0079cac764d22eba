"""The neuron model registry is read-only; models join it only through register_neuron_model."""

import dataclasses
from typing import ClassVar

import pytest

from memr_snn.neurons import (
    NEURON_MODELS,
    ALIFParams,
    LIFCondParams,
    LIFParams,
    NeuronParams,
    TSMNeuronParams,
    register_neuron_model,
)


def test_builtin_models_are_registered():
    assert set(NEURON_MODELS) >= {"lif", "lif_cond", "alif", "tsm"}
    for klass in (LIFParams, LIFCondParams, ALIFParams, TSMNeuronParams):
        assert NEURON_MODELS[klass.model] is klass


def test_registry_is_read_only():
    with pytest.raises(TypeError):
        NEURON_MODELS["lif"] = ALIFParams
    with pytest.raises(TypeError):
        del NEURON_MODELS["lif"]
    assert NEURON_MODELS["lif"] is LIFParams


def test_register_neuron_model():
    assert register_neuron_model(LIFParams) is LIFParams  # again: a no-op

    @dataclasses.dataclass(frozen=True, eq=False)
    class Impostor(NeuronParams):
        model: ClassVar[str] = "lif"

    with pytest.raises(ValueError, match="already registered"):
        register_neuron_model(Impostor)
    with pytest.raises(ValueError, match="NeuronParams subclass"):
        register_neuron_model(int)
    assert NEURON_MODELS["lif"] is LIFParams
