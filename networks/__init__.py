"""Reference networks, installed as ``memr_snn.networks``."""

from .vogels_abbott import VogelsAbbott, coba, cuba

__all__ = ["VogelsAbbott", "cuba", "coba", "BUILTIN"]

#: built-in networks by name (used by the CLI)
BUILTIN = {"cuba": cuba, "coba": coba}
