"""The DAGs-folder loader: one ``.py`` file turns every definition below it into a DAG.

Put this in the DAGs folder (``airflow-cloudflow init`` writes it)::

    from airflow_cloudflow.providers.loader import load_flows; load_flows(globals())

Airflow's DAG processor parses only ``.py`` files, so this one file globs ``*.flow.yaml``,
``*.flow.yml``, ``*.asl.json`` and ``*.asl.yaml`` below its own folder, honouring
``.airflowignore`` (Airflow's own matcher and ``[core] dag_ignore_file_syntax``).

* **Error isolation**: Airflow records import errors per ``.py`` file only, so one bad definition
  would hide all the others. Instead each invalid file becomes a *marker DAG*
  ``cloudflow_invalid__<path>`` (see ``providers/invalid.py``) whose docs list every lint line and
  whose single task fails with them; the valid files load normally.
* **Strict mode** (``strict=True`` or ``[cloudflow] strict_loading``): any invalid file raises
  ``InvalidDefinitionsError`` listing every bad file, so the loader file is an import error.
* **dag_ids**: a sidecar ``dag_id:`` wins; otherwise the flow ``Name`` (CloudFlow) or the file
  name (ASL). ASL files whose file-name id is shared (``a/definition.asl.json``,
  ``b/definition.asl.json``) each take the id of their path below the loader folder instead
  (``a.definition``), see ``path_dag_id``.
* **dag_id collisions**: two files whose flows still map to the same dag_id are *both* invalid (a
  marker each, naming both files). Letting one win would silently swap the flow behind a running
  DAG when a file is added or renamed.
* **Workers** re-parse the loader for every task: with ``get_parsing_context().dag_id`` set, only
  the files that can define that dag_id are loaded (the top-level ``Name:`` is read with a regular
  expression, cached by path+mtime+size; files whose name cannot be read that way are loaded), and
  only that DAG is built. If nothing matches, everything is loaded as a fallback.
* **Caching**: parsed models are cached in-process by path and sha256 of the text, so re-parsing
  an unchanged file costs a hash. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from ..loader_file import owned_by_nested_loader
from ..diagnostics import ERROR, Issue
from ..dialects import LINT_PATTERNS
from ..exceptions import DefinitionError
from ..model import StateMachine
from .options import DagOptions

log = logging.getLogger(__name__)

PATTERNS = LINT_PATTERNS
"""The definition files the loader picks up (matched on the file name)."""
IGNORE_FILE = ".airflowignore"
COLLISION = "CF-E500"
"""Issue code: two definition files map to the same dag_id."""
BUILD_FAILED = "CF-E501"
"""Issue code: the DAG builder raised for a definition that validated."""
CACHE_SIZE = 1024

Builder = Callable[[StateMachine, DagOptions], Any]


class InvalidDefinitionsError(DefinitionError):
    """Strict mode: one or more definitions are invalid. ``str()`` lists every bad file's issues."""

    def __init__(self, issues: list[Issue], files: list[str]):
        super().__init__(issues)
        self.files = list(files)

    def __str__(self) -> str:
        lines = [f"{len(self.files)} invalid CloudFlow definition file(s):"]
        lines += [str(i) for i in self.issues if i.severity == ERROR]
        return "\n".join(lines)


@dataclass(frozen=True)
class Loaded:
    """One definition file after loading: a model and options, or the issues that stop it."""

    path: Path
    machine: StateMachine | None = None
    options: DagOptions | None = None
    issues: tuple[Issue, ...] = ()

    @property
    def dag_id(self) -> str | None:
        if self.machine is None:
            return None
        from ..planning.plan import dag_id_for

        return dag_id_for(self.machine)

    @property
    def ok(self) -> bool:
        return self.machine is not None and not any(i.severity == ERROR for i in self.issues)


# --------------------------------------------------------------------------- discovery


def _ignore_syntax() -> str:
    try:
        from airflow.sdk import conf

        return conf.get("core", "dag_ignore_file_syntax", fallback="glob") or "glob"
    except Exception:  # pragma: no cover - config unreadable: Airflow's own default
        return "glob"


def _walk(folder: Path, syntax: str) -> Iterable[str]:
    try:
        from airflow._shared.module_loading.file_discovery import find_path_from_directory
    except ImportError:  # pragma: no cover - older layout
        from airflow.utils.file import find_path_from_directory  # type: ignore[attr-defined,no-redef]
    return find_path_from_directory(folder, IGNORE_FILE, syntax)


def is_definition(name: str) -> bool:
    """True when a file name matches one of ``PATTERNS``."""
    lower = name.lower()
    return any(lower.endswith(p[1:]) for p in PATTERNS)


def find_definitions(folder: str | Path, syntax: str | None = None) -> list[Path]:
    """Every definition file below ``folder`` that ``.airflowignore`` does not exclude, sorted.

    A subfolder holding a loader file of its own (``cloudflow_dags.py``) belongs to that loader and
    is left out — e.g. the private folder ``run --engine airflow`` creates in a live DAGs folder,
    whose copy of a definition would otherwise collide with the original's dag_id.
    """
    root = Path(folder)
    if not root.is_dir():
        return []
    found = (Path(p) for p in _walk(root, syntax or _ignore_syntax()))
    return sorted(p for p in found if is_definition(p.name) and p.is_file() and not owned_by_nested_loader(p, root))


# --------------------------------------------------------------------------- cheap name sniffing

_NAME_LINE = re.compile(r"^Name[ \t]*:[ \t]*(?P<value>[^\n#]*?)[ \t]*(?:#.*)?$", re.MULTILINE)
_SNIFFED: OrderedDict[tuple[str, int, int], str | None] = OrderedDict()


def _remember(cache: OrderedDict, key: Any, value: Any) -> Any:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)
    return value


def sniff_dag_id(path: Path) -> str | None:
    """The dag_id a CloudFlow file's top-level ``Name:`` maps to, read without parsing the file;
    None when it cannot be told this way (ASL, JSON style, several candidates, unreadable)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key in _SNIFFED:
        return _SNIFFED[key]
    value: str | None = None
    if path.name.lower().endswith((".flow.yaml", ".flow.yml")):
        try:
            matches = _NAME_LINE.findall(path.read_text(encoding="utf-8-sig"))
            if len(matches) == 1:
                name = yaml.safe_load(matches[0]) if matches[0] else None
                if isinstance(name, str) and name:
                    from ..planning.plan import sanitize_id

                    value = sanitize_id(name)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            value = None
    return _remember(_SNIFFED, key, value)


# --------------------------------------------------------------------------- loading


_MODELS: OrderedDict[tuple[str, str, tuple], StateMachine | tuple[Issue, ...]] = OrderedDict()


def _model(path: Path, substitutions: dict[str, str] | None = None) -> StateMachine | tuple[Issue, ...]:
    """The model of one file (its ``${…}`` filled from ``substitutions``), cached by path, content
    hash and substitutions; issues when it is invalid."""
    from ..dialects import load_definition_text, read_text

    try:
        text = read_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        return (Issue(str(path), 1, 1, "CF-E105", f"cannot read file: {exc}", ERROR, ""),)
    key = (str(path), hashlib.sha256(text.encode("utf-8")).hexdigest(), tuple(sorted((substitutions or {}).items())))
    if key in _MODELS:
        _MODELS.move_to_end(key)
        return _MODELS[key]
    try:
        result: StateMachine | tuple[Issue, ...] = (
            load_definition_text(text, str(path), substitutions) if substitutions else load_definition_text(text, str(path))
        )
    except DefinitionError as exc:
        result = tuple(exc.issues)
    except Exception as exc:  # a front-end bug must not hide the other files
        result = (Issue(str(path), 1, 1, "CF-E105", f"cannot load definition: {type(exc).__name__}: {exc}", ERROR, ""),)
    return _remember(_MODELS, key, result)


def load_file(path: Path, root: Path) -> Loaded:
    """Load one definition and its settings (sidecar, folder defaults up to ``root``)."""
    from .sidecar import load_options

    issues: list[Issue] = []
    try:
        options: DagOptions | None = load_options(path, root)
    except DefinitionError as exc:
        options = None
        issues.extend(exc.issues)
    model = _model(path, options.definition_substitutions if options else None)
    if not isinstance(model, StateMachine):
        issues[:0] = model
    elif options is not None and options.dag_id:
        model = replace(model, dag_id=options.dag_id)
    if isinstance(model, StateMachine) and not issues:
        return Loaded(path, model, options)
    return Loaded(path, model if isinstance(model, StateMachine) else None, None, tuple(issues))


def path_dag_id(path: Path, root: Path) -> str:
    """The dag_id of a definition's path below ``root``: folders and stem joined with ``.``
    (``a/definition.asl.json`` → ``a.definition``), each part made safe like a state name."""
    from ..planning.plan import sanitize_id
    from .sidecar import definition_stem

    try:
        rel = path.absolute().relative_to(root.absolute())
    except ValueError:
        rel = Path(path.name)
    dag_id = ".".join([sanitize_id(p) for p in rel.parent.parts] + [sanitize_id(definition_stem(path))])
    if len(dag_id) > 250:
        dag_id = f"{dag_id[:241]}_{hashlib.sha1(rel.as_posix().encode()).hexdigest()[:8]}"
    return dag_id


def resolve_dag_ids(loaded: list[Loaded], root: Path) -> list[Loaded]:
    """ASL files whose dag_id comes from a shared file name (``statemachine.asl.json`` in two
    folders) and is not set by a sidecar take ``path_dag_id`` instead; nothing else changes."""
    by_id: dict[str, list[Loaded]] = {}
    for item in loaded:
        if item.ok:
            by_id.setdefault(item.dag_id, []).append(item)  # type: ignore[arg-type]

    def from_file_name(item: Loaded) -> bool:
        return item.machine.dialect == "asl" and item.machine.dag_id is None  # type: ignore[union-attr]

    out = []
    for item in loaded:
        if item.ok and len(by_id[item.dag_id]) > 1 and from_file_name(item):  # type: ignore[index]
            item = replace(item, machine=replace(item.machine, dag_id=path_dag_id(item.path, root)))  # type: ignore[type-var]
        out.append(item)
    return out


def mark_collisions(loaded: list[Loaded]) -> list[Loaded]:
    """Files sharing a dag_id all become invalid, each issue naming the other files."""
    by_id: dict[str, list[Loaded]] = {}
    for item in loaded:
        if item.ok:
            by_id.setdefault(item.dag_id, []).append(item)  # type: ignore[arg-type]
    out = []
    for item in loaded:
        clash = by_id.get(item.dag_id, []) if item.ok else []
        if len(clash) > 1:
            others = ", ".join(str(o.path) for o in clash if o is not item)
            message = (f"dag_id {item.dag_id!r} (flow Name {item.machine.name!r}) is also defined by {others}; "  # type: ignore[union-attr]
                       "set 'dag_id:' in a sidecar (<name>.airflow.yaml) to give each its own")
            line = _name_line(item.path)
            item = Loaded(item.path, item.machine, None, (Issue(str(item.path), line, 1, COLLISION, message, ERROR, "/Name"),))
        out.append(item)
    return out


def _name_line(path: Path) -> int:
    """The line of the top-level ``Name:`` key (1 when it cannot be found that way)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return 1
    match = _NAME_LINE.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 1


# --------------------------------------------------------------------------- selection (workers)


def _select(files: list[Path], root: Path, requested: str) -> list[Loaded]:
    """The loaded files that can produce ``requested`` (plus same-id rivals, for collisions)."""
    from .invalid import marker_dag_id

    if requested.startswith("cloudflow_invalid__"):
        chosen = [p for p in files if marker_dag_id(p, root) == requested]
        ids = {sniff_dag_id(p) for p in chosen}
        loaded = [load_file(p, root) for p in chosen]
        ids |= {item.dag_id for item in loaded if item.dag_id}
    else:
        chosen, loaded, ids = [], [], {requested}
    rivals = [p for p in files if p not in chosen and (sniff_dag_id(p) in ids | {None} or _sidecar_names_dag_id(p))]
    return loaded + [load_file(p, root) for p in rivals]


def _sidecar_names_dag_id(path: Path) -> bool:
    """True when the definition's sidecar may set ``dag_id:`` (its text mentions it), so a worker
    cannot tell the file's dag_id from its ``Name:`` line."""
    from .sidecar import sidecar_path

    sidecar = sidecar_path(path)
    try:
        return sidecar is not None and "dag_id" in sidecar.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return True


# --------------------------------------------------------------------------- the entry point


def _strict_default() -> bool:
    try:
        from .config import load_settings

        return bool(load_settings().strict_loading)
    except Exception:
        from airflow.sdk import conf

        return conf.getboolean("cloudflow", "strict_loading", fallback=False)


def _requested_dag_id() -> str | None:
    from airflow.sdk import get_parsing_context

    return get_parsing_context().dag_id


def _default_builder() -> Builder:
    from .builder import build_dag

    return build_dag


def _build(item: Loaded, builder: Builder) -> tuple[Any, Loaded]:
    """Build one DAG; a builder failure turns the file into an invalid one (and discards any
    half-built DAG the builder's ``with DAG()`` auto-registered)."""
    from .invalid import forget_autoregistered

    with forget_autoregistered() as guard:
        try:
            return builder(item.machine, item.options), item  # type: ignore[arg-type]
        except Exception as exc:
            guard.discard = True
            log.exception("cloudflow: building the DAG of %s failed", item.path)
            issue = Issue(str(item.path), 1, 1, BUILD_FAILED, f"cannot build the DAG: {type(exc).__name__}: {exc}", ERROR, "")
            return None, Loaded(item.path, item.machine, None, item.issues + (issue,))


def load_flows(
    namespace: dict[str, Any],
    folder: str | Path | None = None,
    *,
    strict: bool | None = None,
    builder: Builder | None = None,
) -> dict[str, Any]:
    """Build a DAG for every definition below ``folder`` (default: the folder of
    ``namespace["__file__"]``), put each in ``namespace`` under its dag_id and return them.

    Invalid files become marker DAGs (or, in strict mode, one ``InvalidDefinitionsError``)."""
    from .invalid import marker_dag, marker_dag_id

    if folder is None:
        if not namespace.get("__file__"):
            raise ValueError("load_flows: pass folder= or call it from a module with __file__")
        folder = Path(namespace["__file__"]).parent
    root = Path(os.path.abspath(folder))
    strict = _strict_default() if strict is None else strict
    build = builder or _default_builder()
    files = find_definitions(root)
    requested = _requested_dag_id()

    chosen = _select(files, root, requested) if requested else [load_file(p, root) for p in files]
    loaded = mark_collisions(resolve_dag_ids(chosen, root))
    dags: dict[str, Any] = {}
    if requested and not _produces(loaded, root, requested):
        loaded = mark_collisions(resolve_dag_ids([load_file(p, root) for p in files], root))  # the sniffing missed: load all

    bad: list[Loaded] = []
    for item in loaded:
        if item.ok and (not requested or item.dag_id == requested):
            dag, item = _build(item, build)
            if dag is not None:
                dags[dag.dag_id] = dag
                continue
        if not item.ok:
            bad.append(item)
            if not strict and (not requested or requested == marker_dag_id(item.path, root)):
                marker = marker_dag(item.path, root, item.issues)
                dags[marker.dag_id] = marker
    for item in bad:
        log.error("cloudflow: invalid definition %s:\n%s", item.path, "\n".join(str(i) for i in item.issues))
    if strict and bad:
        raise InvalidDefinitionsError([i for item in bad for i in item.issues], [str(item.path) for item in bad])
    namespace.update(dags)
    return dags


def _produces(loaded: list[Loaded], root: Path, requested: str) -> bool:
    from .invalid import marker_dag_id

    return any(requested in (item.dag_id, marker_dag_id(item.path, root)) for item in loaded)


def clear_caches() -> None:
    """Forget cached models and sniffed names (tests; a long-lived process after mass edits)."""
    _MODELS.clear()
    _SNIFFED.clear()


__all__ = [
    "BUILD_FAILED", "COLLISION", "InvalidDefinitionsError", "Loaded", "PATTERNS", "clear_caches",
    "find_definitions", "load_file", "load_flows", "mark_collisions", "path_dag_id", "resolve_dag_ids", "sniff_dag_id",
]
