"""Reference networks, installed as ``memr_snn.networks``."""


from memr_snn._tree import check_same_tree as _check_same_tree

from .diehl_cook import DiehlCook, train_diehl_cook
from .song_miller_abbott import SongMillerAbbott, song_miller_abbott
from .vogels_abbott import VogelsAbbott, coba, cuba, cuba_alif

_check_same_tree(__file__, "networks")  # memr_snn and this package from one tree (memr_snn/_tree.py)

__all__ = ["VogelsAbbott", "cuba", "coba", "cuba_alif", "SongMillerAbbott", "song_miller_abbott", "DiehlCook",
           "train_diehl_cook", "BUILTIN"]

#: built-in networks by name (used by the CLI)
BUILTIN = {"cuba": cuba, "coba": coba, "alif": cuba_alif}
