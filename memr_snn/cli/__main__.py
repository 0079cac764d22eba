"""``python -m memr_snn.cli``: the same as ``memr-snn`` (and ``python -m memr_snn``)."""

from . import main

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
