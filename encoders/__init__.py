"""Spike encoders, installed as ``memr_snn.encoders`` (filled by the sensory front-end work)."""

__all__: list[str] = []

# --- event cameras (DVS): events, emulator, readers ---
from .dvs import DVSParams, emulate_dvs, saccades  # noqa: E402
from .events import EVENT_DTYPE, EventError, EventStream  # noqa: E402
from .readers import EventFileError, from_tonic, read_events  # noqa: E402

__all__ += ["DVSParams", "emulate_dvs", "saccades", "EVENT_DTYPE", "EventError", "EventStream", "EventFileError",
            "from_tonic", "read_events"]
