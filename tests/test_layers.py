"""The house rules of docs/architecture.md, checked on the source (AST, no imports run).

- Imports run one way, with no cycle, counting the imports inside functions.
- Every module belongs to a domain, and the domains come in one declared order: a module
  imports its own domain and those before it, never one after it.
- The pure core imports no database, no web, no network client and no scheduler.
- A face (web, CLI, worker) never imports another face; only ``launch`` composes them.
- Faces hold no queries (no SQLAlchemy but its error classes), and the web face starts no
  threads.
- No module grows past the size at which it stops having one role.
- No test module imports another test module: shared builders live in factories.py.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ostogether"

# The domains, first to last. A module belongs to the domain of its longest prefix here
# (the root package, which holds only ``__version__``, is core), and imports only its own
# domain and those before it. The faces and the entry points come last, together: among
# them the face rules below hold (a face never imports another; only the CLI launches).
DOMAINS = (
    ("core", ("ostogether.core",)),
    ("edges", ("ostogether.edges", "ostogether.models")),
    ("mail", ("ostogether.mail",)),
    ("readers", ("ostogether.readers",)),
    ("newsletter", ("ostogether.newsletter",)),
    ("news", ("ostogether.news",)),
    ("accounts", ("ostogether.accounts",)),
    ("registry", ("ostogether.registry",)),
    ("library", ("ostogether.library",)),
    ("social", ("ostogether.social",)),
    ("reach", ("ostogether.reach",)),
    ("across", ("ostogether.jobs", "ostogether.imports", "ostogether.front",
                "ostogether.bootstrap")),
    ("faces", ("ostogether.web", "ostogether.cli", "ostogether.scheduler",
               "ostogether.launch", "ostogether.__main__")),
)
RANK = {domain: rank for rank, (domain, _) in enumerate(DOMAINS)}
# Pure, besides the core: the one function that counts a post's text.
ALSO_PURE = ("ostogether.social.text",)
NOT_IN_CORE = ("ostogether.edges", "ostogether.models", "ostogether.web", "ostogether.cli",
               "ostogether.scheduler", "requests", "apscheduler", "flask", "httpx")
FACES = {"web": "ostogether.web", "cli": "ostogether.cli", "worker": "ostogether.scheduler"}
# The composition root and ``python -m ostogether``: the only modules that may bring
# faces together.
ENTRY_POINTS = ("ostogether.launch", "ostogether.__main__")
LONGEST_MODULE = 700
LONGEST_CLI_MODULE = 450


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}


MODULES = _modules()


def _domain(name: str) -> str | None:
    if name == "ostogether":
        return "core"
    matches = [(len(prefix), domain) for domain, prefixes in DOMAINS for prefix in prefixes
               if name == prefix or name.startswith(prefix + ".")]
    return max(matches)[1] if matches else None


CORE = tuple(sorted(n for n in MODULES if _domain(n) == "core")) + ALSO_PURE


def _imports(name: str) -> Iterator[tuple[str, int]]:
    """Every module ``name`` imports, anywhere in the file, with the line."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield (full if full in MODULES else base), node.lineno


def _internal(target: str) -> str | None:
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name in MODULES:
        graph[name] = {t for imported, _ in _imports(name)
                       if (t := _internal(imported)) and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _face(name: str) -> str | None:
    return next((face for face, root in FACES.items()
                 if name == root or name.startswith(root + ".")), None)


def test_no_import_cycle_counting_imports_inside_functions() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _upward(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a domain that comes later in ``DOMAINS``."""
    found = []
    for name in sorted(graph):
        mine = _domain(name)
        for target in sorted(graph[name]):
            theirs = _domain(target)
            if mine and theirs and RANK[theirs] > RANK[mine]:
                found.append(f"{name} ({mine}) imports {target} ({theirs})")
    return found


def test_every_module_belongs_to_a_domain() -> None:
    assert [name for name in MODULES if _domain(name) is None] == []


def test_no_domain_imports_one_after_it() -> None:
    assert _upward(_graph()) == []


def test_the_order_checker_finds_an_import_of_a_later_domain() -> None:
    graph = {"ostogether.core.clock": {"ostogether.news.items"},
             "ostogether.news.items": {"ostogether.core.clock", "ostogether.models"},
             "ostogether.models": {"ostogether.core.clock"},
             "ostogether.web.app": {"ostogether.news.items", "ostogether.jobs"},
             "ostogether.jobs": {"ostogether.cli.base"}}
    assert _upward(graph) == [
        "ostogether.core.clock (core) imports ostogether.news.items (news)",
        "ostogether.jobs (across) imports ostogether.cli.base (faces)"]
    assert _domain("ostogether") == "core" and _domain("ostogether.newsletter.issues") == \
        "newsletter" and _domain("ostogether.news") == "news"


@pytest.mark.parametrize("core", CORE)
def test_the_pure_core_imports_no_io_layer(core: str) -> None:
    bad = [(imported, line) for imported, line in _imports(core)
           if any(imported == x or imported.startswith(x + ".") for x in NOT_IN_CORE)]
    assert bad == [], f"{core} imports {bad}"


def test_a_face_never_imports_another_face() -> None:
    crossings = []
    for name in MODULES:
        mine = _face(name)
        for imported, line in _imports(name):
            theirs = _face(_internal(imported) or "")
            if theirs and theirs != mine and name not in ENTRY_POINTS:
                crossings.append(f"{name}:{line} imports {imported}")
    assert crossings == []


def test_only_the_cli_launches_the_processes() -> None:
    users = {name for name in MODULES for imported, _ in _imports(name)
             if _internal(imported) == "ostogether.launch"}
    assert users == {"ostogether.cli.ops"}


def _calls(name: str) -> Iterator[tuple[str, int]]:
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            yield called, node.lineno


@pytest.mark.parametrize("face", ["web", "cli", "worker"])
def test_faces_hold_no_queries(face: str) -> None:
    found = []
    for name in MODULES:
        if _face(name) != face:
            continue
        found += [f"{name}:{line} imports {imported}" for imported, line in _imports(name)
                  if imported.partition(".")[0] == "sqlalchemy"
                  and not imported.startswith("sqlalchemy.exc")]
        found += [f"{name}:{line} calls {called}()" for called, line in _calls(name)
                  if called in ("select", "scalars", "scalar", "execute", "text")]
    assert found == []


def test_the_web_face_starts_no_threads() -> None:
    found = [f"{name}:{line}" for name in MODULES if _face(name) == "web"
             for called, line in _calls(name) if called in ("Thread", "start_new_thread")]
    assert found == []


def test_no_module_outgrows_its_room() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines())
             for name, path in MODULES.items()}
    too_long = {n: s for n, s in sizes.items() if s > LONGEST_MODULE}
    cli_too_long = {n: s for n, s in sizes.items()
                    if _face(n) == "cli" and s > LONGEST_CLI_MODULE}
    assert too_long == {} and cli_too_long == {}


def test_no_test_module_imports_another() -> None:
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            module = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
            if module.startswith("tests.") and module.rpartition(".")[2].startswith("test_"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {module}")
    assert found == []
