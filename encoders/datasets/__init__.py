"""Built-in offline datasets, installed as ``memr_snn.encoders.datasets``: generated or read on first use,
cached on disk, versioned.

Modules are imported on demand (``from memr_snn.encoders.datasets import mnist``); importing this
package stays cheap.
"""

__all__: list[str] = []
