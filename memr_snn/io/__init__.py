"""File formats: the checksummed checkpoint container.

See :mod:`memr_snn.io.container` for the on-disk layout.
"""

from .container import FORMAT_VERSION, MAGIC, CheckpointError, read_container, write_container

__all__ = [
    "MAGIC",
    "FORMAT_VERSION",
    "CheckpointError",
    "write_container",
    "read_container",
]
