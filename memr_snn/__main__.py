"""``python -m memr_snn`` is the ``memr-snn`` command line."""

from .cli import main

raise SystemExit(main())
