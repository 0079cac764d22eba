"""Learning on float weights and on memristive synapses: STDP family, reward-modulated STDP,
e-prop and surrogate-gradient training."""

__all__: list[str] = []
