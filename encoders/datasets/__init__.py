"""Built-in offline datasets, installed as ``memr_snn.encoders.datasets``: generated or read on first use,
cached on disk, versioned.

* :mod:`.cache` -- the on-disk cache (``$MEMR_SNN_DATA`` or ``~/.cache/memr_snn``, versioned folders,
  atomic ``.npz`` writes, checksums; corrupted files are rebuilt);
* :mod:`.mnist` -- IDX reader (all six element types, gzip) and MNIST from the user's four standard files.

Modules are imported on demand (``from memr_snn.encoders.datasets import mnist``); importing this
package stays cheap.
"""

__all__: list[str] = []
