"""Sphinx configuration of the memr_snn documentation: the narrative pages (docs/*.md, read by
myst-parser) and the API reference generated from the numpy-style docstrings (autodoc, napoleon,
autosummary).

Build with ``make docs`` (HTML in docs/_build/html, warnings are errors).
"""

from __future__ import annotations

import importlib
import inspect

# memr_snn must be installed (``make docs`` runs pip install -e ".[docs]"): encoders/, networks/ and
# bci/ import as memr_snn.encoders etc. only through the package-dir mapping of the installed package.

project = "memr_snn"
author = "memr_snn developers"
copyright = "memr_snn developers, MIT licence"
try:
    from importlib.metadata import version as _version

    release = _version("memr_snn")
except Exception:  # pragma: no cover - a source tree without metadata
    release = "unknown"
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build"]

# --- markdown (the narrative pages are also read on GitHub: keep them plain markdown) -------------
# Anchors for links such as ``learning.md#performance`` (GitHub's heading slugs).
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]  # $...$ math, as GitHub renders it

# --- API reference ---------------------------------------------------------------------------------
autosummary_generate = True
autosummary_generate_overwrite = True
# Document every object where it is defined: a package page shows its docstring, a table of the
# names it exports (see PublicNames below) and its submodules; re-exports are not documented twice.
autosummary_ignore_module_all = True
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    "ignore-module-all": True,
}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_class_signature = "mixed"
autoclass_content = "class"

# The documented modules import their optional dependencies (nir, h5py, aedat, scikit-learn, Lava,
# ...) inside functions, so the docs extra needs none of them; importing them compiles no numba
# kernel either (kernels compile on first call).  The peers that must never be needed for the docs
# are mocked in case a module-level import of them appears.
autodoc_mock_imports = ["lava", "nest", "brian2"]

napoleon_google_docstring = False
napoleon_numpy_docstring = True
# Types are prose here ("ndarray, shape (N, T, n_in)", "float [s]"): render them as text.  As ``:type:``
# fields Sphinx would try to resolve every word as a Python name, and a word such as ``T`` that names
# attributes of two classes would break the build (ambiguous reference).
napoleon_use_param = False
napoleon_use_keyword = False
napoleon_use_rtype = False
napoleon_use_ivar = True

html_theme = "alabaster"
html_title = f"memr_snn {release}"
html_static_path: list[str] = []


def _canonical_name(module, name: str) -> str | None:
    """``~owner.qualname`` of a class, function or module exported as ``module.name`` (shown as
    ``name``, linked to where it is documented); None for a constant, which has no page."""
    obj = getattr(module, name)
    if inspect.ismodule(obj):
        return "~" + obj.__name__
    owner = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if (inspect.isclass(obj) or callable(obj)) and isinstance(owner, str) and isinstance(qualname, str):
        return f"~{owner}.{qualname}"
    return None


def _jitted_signature(app, what, name, obj, options, signature, return_annotation):
    """numba kernels (``@njit`` dispatchers) have no signature of their own: show their Python
    function's.  Only the wrapped function is inspected; nothing is compiled."""
    py_func = getattr(obj, "py_func", None)
    if what == "function" and not signature and inspect.isfunction(py_func):
        return str(inspect.signature(py_func)), return_annotation
    return None


def _drop_object_base(app, name, obj, options, bases):
    """``show-inheritance`` without the uninformative "Bases: object"."""
    bases[:] = [b for b in bases if b is not object]


def setup(app):
    from docutils import nodes
    from docutils.statemachine import StringList
    from pygments.lexers.special import TextLexer
    from sphinx.ext.autosummary import Autosummary
    from sphinx.highlighting import lexers

    # docs/architecture.md draws its layer diagram in a ```mermaid block (GitHub renders it); show
    # it here as text instead of warning that Pygments has no such lexer.
    lexers["mermaid"] = TextLexer()

    class PublicNames(Autosummary):
        """``.. public-names:: package``: a summary table of ``package.__all__``, each entry linked to
        the page of the module that defines it (where it is documented)."""

        required_arguments = 1
        has_content = False
        option_spec = {"nosignatures": Autosummary.option_spec["nosignatures"]}

        def run(self):
            module = importlib.import_module(self.arguments[0])
            exported = list(getattr(module, "__all__", []))
            names = [_canonical_name(module, n) for n in exported]
            constants = [n for n, c in zip(exported, names, strict=True) if c is None]
            self.arguments = []
            self.content = StringList([c for c in names if c], source="__all__ of " + module.__name__)
            # Full names, outside the module of the page (autosummary refuses names in the current
            # module spelled with its prefix).
            context = self.env.ref_context
            saved = context.pop("py:module", None)
            try:
                result = super().run() if self.content else []
            finally:
                if saved is not None:
                    context["py:module"] = saved
            if not exported:
                result.append(nodes.paragraph(text="None listed (no __all__): import from the modules below."))
            if constants:
                para = nodes.paragraph(text="Constants: ")
                for i, n in enumerate(constants):
                    para += nodes.literal(text=n)
                    if i < len(constants) - 1:
                        para += nodes.Text(", ")
                result.append(para)
            return result

    app.add_directive("public-names", PublicNames)
    app.connect("autodoc-process-signature", _jitted_signature)
    app.connect("autodoc-process-bases", _drop_object_base)
    return {"parallel_read_safe": True}
