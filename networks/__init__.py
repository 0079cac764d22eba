"""Reference networks, installed as ``memr_snn.networks``."""

from .vogels_abbott import VogelsAbbott, coba, cuba, cuba_alif

__all__ = ["VogelsAbbott", "cuba", "coba", "cuba_alif", "BUILTIN"]

#: built-in networks by name (used by the CLI)
BUILTIN = {"cuba": cuba, "coba": coba, "alif": cuba_alif}
