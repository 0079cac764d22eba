"""numba kernels: small pure functions over flat arrays (imports only numpy and numba).

Every kernel has a plain-numpy twin in :mod:`memr_snn.kernel.reference`, used by the tests.
Compiled code is cached on disk (``cache=True``).
"""
