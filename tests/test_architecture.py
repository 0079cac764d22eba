"""The package layering (docs/architecture.md), checked statically on every module's imports.

Every ``.py`` file of ``memr_snn`` (and of the top-level folders installed as ``memr_snn.encoders``,
``memr_snn.networks``, ``memr_snn.bci``) is parsed with :mod:`ast`; every ``import`` and
``from ... import`` statement counts, including those inside functions and ``if TYPE_CHECKING:``
blocks.  Each module belongs to one *component* (a subpackage, a top-level module, or
``io.atomic``, the leaf file-writing utility that everything may use).  The test fails on

(a) an import cycle between components, and
(b) an import one component is not allowed to make by :data:`ALLOWED`,

except for the edges listed in :data:`KNOWN_VIOLATIONS`, each naming the importing file and the
imported module.  A known violation that is fixed must be removed from the list (the test fails on
stale entries too), so the list only shrinks.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: source folder -> the package it is installed as (pyproject ``package-dir``)
SOURCES = {"memr_snn": "memr_snn", "encoders": "memr_snn.encoders", "networks": "memr_snn.networks",
           "bci": "memr_snn.bci"}

# Components, bottom to top.  BASE is the set of leaf utilities that every layer may import.
BASE = {"units", "_validation", "_protocols", "_json_files", "_tree", "_extras", "progress", "info", "plotting",
        "analysis",
        "io.atomic"}

#: component -> the components it may import (besides itself).  The layering, bottom up:
#: kernel | base utilities | neurons, devices | encoders | model (+ the ``memr_snn`` facade) | engine | io |
#: learning | hardware, networks | adapters | bench (tooling, with the peers), bci, pipeline | sweep | cli.
ALLOWED: dict[str, set[str]] = {
    "kernel": set(),  # numba kernels: numpy and numba only
    **{b: set() for b in BASE},
    "neurons": BASE,
    "devices": BASE | {"kernel"},
    "encoders": BASE,  # spike encoders and datasets: never learning, model or engine
    "model": BASE | {"neurons"},
    "__init__": BASE | {"model", "neurons", "runtime"},  # the public facade ``import memr_snn``
    # installs the engine and the checkpoint I/O as the runtime of Network (model.network.install_runtime)
    "runtime": BASE | {"model", "engine", "io"},
    "engine": BASE | {"kernel", "neurons", "model", "devices"},
    "io": BASE | {"kernel", "neurons", "model", "engine", "devices"},  # checkpoints of whole networks
    "learning": BASE | {"kernel", "neurons", "model", "devices", "encoders", "__init__"},
    "hardware": BASE | {"kernel", "neurons", "model", "devices"},
    # dense analog in-memory computing: tiles of devices with DAC/ADC periphery (uses the device layer's models)
    # (learning: the float MLP and the digits of the accuracy-versus-time experiment, aimc.experiment)
    "aimc": BASE | {"kernel", "neurons", "devices", "learning"},
    "networks": BASE | {"neurons", "model", "devices", "learning", "encoders", "__init__"},
    "adapters": BASE | {"kernel", "neurons", "model", "devices", "hardware", "__init__"},
    # benchmark tooling and the Brian2/NEST peers (memr_snn.bench); users do not import it
    "bench": BASE | {"__init__", "model", "neurons", "networks", "io", "aimc"},
    # deprecated aliases of memr_snn.bench (memr_snn.benchmarking, memr_snn.peers)
    "benchmarking": BASE | {"bench", "__init__"},
    "peers": BASE | {"bench", "__init__"},
    "bci": BASE | {"__init__", "kernel", "neurons", "model", "engine", "devices", "learning", "hardware",
                   "encoders", "networks", "io", "aimc"},
    # parameter sweeps and fault-injection campaigns on Dask (memr_snn.sweep): runs library-level experiments
    # (AIMC and BCI studies included); nothing but the command line imports it
    "sweep": BASE | {"__init__", "kernel", "neurons", "model", "engine", "devices", "learning", "hardware",
                     "encoders", "networks", "io", "bench", "aimc", "bci"},
    # hybrid perception -> control pipelines (memr_snn.pipeline): stages wrapping encoders, spiking networks,
    # AIMC models, readouts, controllers and gymnasium plants on one time base
    "pipeline": BASE | {"__init__", "kernel", "neurons", "model", "engine", "devices", "learning", "hardware",
                        "encoders", "networks", "io", "aimc"},
}
_TOP = {"cli", "cli_experiments", "__main__"}
for _c in _TOP:  # the command line may import everything
    ALLOWED[_c] = (set(ALLOWED) | _TOP) - {_c}

#: Imports that break the layering today, to be worked off (docs/architecture.md, "Known violations").
#: (importing file, imported module).  Do not add entries: fix the import instead.
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()


def _modules() -> dict[str, Path]:
    mods = {}
    for folder, pkg in SOURCES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join([pkg, *parts])] = path
    return mods


MODULES = _modules()


def _imports(module: str, path: Path) -> set[str]:
    """Absolute names of the memr_snn modules (or packages) ``module`` imports, anywhere in the file."""
    out = set()
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_pkg else module.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # ``from pkg import mod`` imports the submodule ``pkg.mod``
            names = [target] + [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES]
        else:
            continue
        out.update(n for n in names if n == "memr_snn" or n.startswith("memr_snn."))
    return out


def component(module: str) -> str:
    """The layering component of a memr_snn module name."""
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    if parts[1] == "io" and len(parts) > 2 and parts[2] == "atomic":
        return "io.atomic"
    return parts[1]


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _edges() -> dict[tuple[str, str], set[tuple[str, str]]]:
    """(component, component) -> {(file, imported module)} over every cross-component import."""
    edges: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for module, path in MODULES.items():
        for target in _imports(module, path):
            a, b = component(module), component(target)
            if a != b:
                edges[(a, b)].add((_rel(path), target))
    return edges


EDGES = _edges()


def _cycles(pairs: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in pairs:
        graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                out.append(sorted(scc))

    for v in sorted(set(graph) | {b for _, b in pairs}):
        if v not in index:
            visit(v)
    return out


def test_every_component_has_a_rule():
    unknown = sorted({c for pair in EDGES for c in pair} - set(ALLOWED))
    assert not unknown, f"components without a rule in ALLOWED (add them to the layering): {unknown}"


def test_no_import_against_the_layering():
    bad = []
    for (a, b), uses in sorted(EDGES.items()):
        if b not in ALLOWED[a]:
            bad += [f"{f} imports {m} ({a} -> {b})" for f, m in sorted(uses) if (f, m) not in KNOWN_VIOLATIONS]
    assert not bad, "imports against the layering (docs/architecture.md):\n" + "\n".join(bad)


def test_no_import_cycle_between_components():
    pairs = {(a, b) for (a, b), uses in EDGES.items() if uses - KNOWN_VIOLATIONS}
    cycles = _cycles(pairs)
    assert not cycles, f"import cycles between components (docs/architecture.md): {cycles}"


def test_known_violations_are_still_there():
    """A fixed violation must leave the allowlist, so that it cannot come back unnoticed."""
    present = set().union(*EDGES.values())
    stale = sorted(KNOWN_VIOLATIONS - present)
    assert not stale, f"remove these fixed entries from KNOWN_VIOLATIONS: {stale}"
    for f, m in KNOWN_VIOLATIONS:
        a, b = component(".".join(["memr_snn", *Path(f).with_suffix("").parts[1:]])), component(m)
        assert b not in ALLOWED[a], f"{f} -> {m} is allowed by the layering; drop it from KNOWN_VIOLATIONS"


def test_the_known_violations_are_the_only_cycles():
    """Without the allowlist, the cycles are exactly those the known violations close (none left)."""
    cycles = _cycles(set(EDGES))
    assert all("model" in c for c in cycles), cycles
    assert KNOWN_VIOLATIONS or not cycles, cycles


@pytest.mark.parametrize(("source", "expected"), [
    ("from ...learning.sensory import X", {"memr_snn.learning.sensory"}),
    ("from .. import rate", {"memr_snn.encoders", "memr_snn.encoders.rate"}),
    ("def f():\n    import memr_snn.engine.simulator as s\n", {"memr_snn.engine.simulator"}),
    ("from . import cache", {"memr_snn.encoders.datasets", "memr_snn.encoders.datasets.cache"}),
    ("import numpy\nfrom numba import njit", set()),
])
def test_import_parser(tmp_path, source, expected):
    path = tmp_path / "mod.py"
    path.write_text(source)
    assert _imports("memr_snn.encoders.datasets.mod", path) == expected


def test_the_rule_catches_an_encoder_importing_learning(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("def f():\n    from ..learning.sensory import ClassificationData\n")
    targets = _imports("memr_snn.encoders.bad", path)
    assert {component(t) for t in targets} == {"learning"} and "learning" not in ALLOWED["encoders"]


def test_mixed_trees_are_refused(tmp_path):
    """memr_snn.encoders/networks/bci must come from memr_snn's own tree (memr_snn/_tree.py)."""
    import memr_snn
    from memr_snn._tree import check_same_tree

    core = Path(memr_snn.__file__).resolve().parent
    check_same_tree(str(core.parent / "encoders" / "__init__.py"), "encoders")  # source tree layout
    check_same_tree(str(core / "encoders" / "__init__.py"), "encoders")  # installed layout
    with pytest.raises(ImportError, match="two different trees"):
        check_same_tree(str(tmp_path / "encoders" / "__init__.py"), "encoders")


#: module size above which a module outside ``kernel/`` must say why it is not split (docs/architecture.md)
MAX_MODULE_LINES = 600
#: over the limit without a reason today, being worked on elsewhere (the model/engine split); the list only
#: shrinks: an entry that is split or gets its reason must leave it
KNOWN_LARGE_MODULES: set[str] = set()


def _size_reason(path: Path) -> str | None:
    """The ``# Size: ...`` comment among the lines before the module's first import, else None."""
    text = path.read_text(encoding="utf-8")
    first = next((n.lineno for n in ast.parse(text, str(path)).body if isinstance(n, (ast.Import, ast.ImportFrom))),
                 None)
    lines = text.splitlines()[:first]
    return next((ln for ln in lines if ln.startswith("# Size:") and len(ln) > len("# Size:") + 10), None)


def test_large_modules_give_a_reason():
    """Outside kernel/, a module over MAX_MODULE_LINES lines is split along its jobs or states why not in a
    ``# Size: <reason>`` comment above its imports."""
    big = []
    for module, path in MODULES.items():
        if component(module) == "kernel":
            continue
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_MODULE_LINES and _size_reason(path) is None and _rel(path) not in KNOWN_LARGE_MODULES:
            big.append(f"{_rel(path)}: {n} lines")
    assert not big, (f"modules over {MAX_MODULE_LINES} lines without a '# Size: <reason>' comment above their "
                     "imports; split them along their jobs or write the reason:\n" + "\n".join(big))


def test_known_large_modules_are_still_large():
    for rel in sorted(KNOWN_LARGE_MODULES):
        path = ROOT / rel
        assert path.is_file() and len(path.read_text(encoding="utf-8").splitlines()) > MAX_MODULE_LINES \
            and _size_reason(path) is None, f"{rel} is split or has its reason: remove it from KNOWN_LARGE_MODULES"


def test_size_rule_catches_a_long_module(tmp_path):
    path = tmp_path / "long.py"
    body = "\n".join(f"x{k} = {k}" for k in range(MAX_MODULE_LINES + 1))
    path.write_text('"""Doc."""\n\nimport math\n' + body + "\n# Size: too late, below the imports\n")
    assert _size_reason(path) is None
    path.write_text("# Size: one table of constants, read as a whole\n" + '"""Doc."""\n\nimport math\n' + body)
    assert _size_reason(path) is not None
