"""``make:models``: a models module from a live SQL database, in the style a
person would write it.

The database is reflected (``Driver.reflect``, the same state values replay
produces) and each table becomes a ``Model``: the class named after the table
(singular, CamelCase), ``increments``/``bigIncrements`` for identity, serial
and auto-increment keys, ``column("timestamp")`` for a timestamp that defaults
to now, ``softDeletes`` for a nullable ``deleted_at``, ``use_tz`` where the
database keeps a time zone, ``unique=True``/``index=True`` for one-column
indexes with modelmig's names, and in ``database`` the named foreign keys,
indexes, unique constraints and checks; a ``belongsTo`` relation per
one-column foreign key. The module imports only ``modelmig_core``.

The generated module is compiled back and compared with the live schema
(``drift.py``): what the models cannot say (a type modelmig has no name for, an
expression default, an expression index) is reported as a warning, and noted in
a comment in the file. The file is formatted with ``ruff format`` when ruff is
installed (it is written in that style already).
"""

from __future__ import annotations

import importlib.util
import json
import keyword
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .column_types import DEFAULT_STRING_LENGTH, STATE_TYPES
from .config import Config
from .errors import ConfigError, ModelmigError
from .naming import index_name
from .state import Column, ForeignKey, Index, State, Table, Unique
from .targets import Target

Echo = Callable[[str], None]
DSL_NAMES = ("Model", "check", "column", "foreign_key", "index", "relation", "unique")


# ---------------------------------------------------------------- names


def singular(word: str) -> str:
    """posts -> post, categories -> category, addresses -> address, status -> status."""
    low = word.lower()
    if low.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if low.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return word[:-2]
    if low.endswith("s") and not low.endswith(("ss", "us", "is")) and len(word) > 1:
        return word[:-1]
    return word


def class_name(table: str) -> str:
    """post_tag -> PostTag, categories -> Category."""
    parts = [p for p in table.split("_") if p]
    if not parts:
        return "Table"
    parts[-1] = singular(parts[-1])
    name = "".join(p[:1].upper() + p[1:] for p in parts)
    if not name.isidentifier() or keyword.iskeyword(name):
        name = "T" + "".join(ch if ch.isalnum() else "_" for ch in name)
    return name


def py(value: Any) -> str:
    """A Python literal, double-quoted as ruff formats it."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(py(v) for v in value) + "]"
    return repr(value)


def _names(columns: tuple[str, ...]) -> str:
    return py(columns[0]) if len(columns) == 1 else py(list(columns))


# ---------------------------------------------------------------- one model


@dataclass
class ModelSource:
    table: Table
    cls: str
    lines: list[str] = field(default_factory=list)
    uses: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)  # what the models cannot say


def _call(fn: str, args: list[str], kwargs: list[tuple[str, str]]) -> str:
    return f"{fn}({', '.join([*args, *(f'{k}={v}' for k, v in kwargs)])})"


def column_source(m: ModelSource, col: Column, expressions: dict[tuple[str, str], str]) -> str:
    """``column(...)`` for one column, as a person would write it."""
    t = m.table
    args: list[str] = []
    kw: list[tuple[str, str]] = []
    where = f"{t.name}.{col.name}"
    default = col.default
    if (t.name, col.name) in expressions:
        m.notes.append(f"{where}: default {expressions[(t.name, col.name)]} is an SQL expression, left out")
        default = None
    single_pk = t.primary_key == (col.name,)
    if col.autoincrement and single_pk and col.type in ("integer", "bigInteger"):
        typ = "increments" if col.type == "integer" else "bigIncrements"
    elif col.type not in STATE_TYPES:
        m.notes.append(f"{where}: database type {col.type} has no modelmig type; written as text")
        typ = "text"
        if col.nullable:
            kw.append(("nullable", "True"))
        if col.primary:
            kw.append(("primary", "True"))
    elif col.type == "timestamp":
        if col.default_now:
            typ = "timestamp"
            if col.nullable:
                kw.append(("nullable", "True"))
        elif default is None and col.nullable and col.name == "deleted_at":
            typ = "softDeletes"
        else:
            typ = "timestamp"
            if default is not None:
                kw.append(("default", py(default)))
            else:
                kw.append(("default_now", "False"))
            if not col.nullable:
                kw.append(("nullable", "False"))
        if col.use_tz:
            kw.append(("use_tz", "True"))
    else:
        typ = col.type
        if col.type == "string" and col.length is not None and col.length != DEFAULT_STRING_LENGTH:
            args.append(str(col.length))
        elif col.type == "decimal":
            args.append(f"({col.precision}, {col.scale})")
        elif col.type == "enum":
            args.append(py(list(col.values or ())))
        if col.nullable and not col.primary:
            kw.append(("nullable", "True"))
        if col.default_now:
            m.notes.append(f"{where}: a {col.type} column that defaults to the current time; default left out")
        elif default is not None:
            kw.append(("default", py(default)))
        if col.use_tz:
            kw.append(("use_tz", "True"))
        if col.primary:
            kw.append(("primary", "True"))
        if col.autoincrement:
            kw.append(("autoincrement", "True"))
    unique_keys = (*t.uniques, *(i for i in t.indexes if i.unique))
    if any(_column_level(t, u, True) for u in unique_keys if u.columns == (col.name,)):
        kw.append(("unique", "True"))
    if any(_column_level(t, ix, False) for ix in t.indexes if ix.columns == (col.name,) and not ix.unique):
        kw.append(("index", "True"))
    if col.comment:
        kw.append(("comment", py(col.comment)))
    m.uses.add("column")
    return _call("column", [py(typ), *args], kw)


def _column_level(t: Table, ix: Index | Unique, unique: bool) -> bool:
    return len(ix.columns) == 1 and ix.name == index_name(t.name, ix.columns, unique)


def fk_source(fk: ForeignKey) -> str:
    kw = [("name", py(fk.name))]
    if fk.on_delete:
        kw.append(("on_delete", py(fk.on_delete.lower())))
    if fk.on_update:
        kw.append(("on_update", py(fk.on_update.lower())))
    return _call("foreign_key", [_names(fk.columns), py(fk.ref_table), _names(fk.ref_columns)], kw)


def relation_name(fk: ForeignKey, taken: set[str]) -> str | None:
    column = fk.columns[0]
    name = column[:-3] if column.endswith("_id") and len(column) > 3 else singular(fk.ref_table)
    return None if name in taken or not name.isidentifier() or keyword.iskeyword(name) else name


def model_source(m: ModelSource, classes: dict[str, str], expressions: dict[tuple[str, str], str]) -> list[str]:
    t = m.table
    lines = [f"class {m.cls}(Model):", f"    table = {py(t.name)}", "    schema = {"]
    taken = set(t.column_names)
    for col in t.columns:
        lines.append(f"        {py(col.name)}: {column_source(m, col, expressions)},")
    for fk in t.foreign_keys:
        target = classes.get(fk.ref_table)
        name = relation_name(fk, taken) if len(fk.columns) == 1 else None
        if target is None or name is None:
            continue
        taken.add(name)
        m.uses.add("relation")
        call = _call("relation", [py("belongsTo"), py(target)], [("foreign_key", py(fk.columns[0]))])
        lines.append(f"        {py(name)}: {call},")
    lines.append("    }")
    block: list[tuple[str, list[str]]] = []
    if t.foreign_keys:
        m.uses.add("foreign_key")
        block.append(("foreign_keys", [fk_source(fk) for fk in t.foreign_keys]))
    columns = set(t.column_names)
    for ix in t.indexes:
        if ix.unique:
            m.notes.append(
                f"{t.name}.{ix.name}: a unique index; the models declare a unique constraint instead "
                "(drift reports the difference until the index is replaced)"
            )
    kinds: tuple[tuple[str, str, bool, Sequence[Index | Unique]], ...] = (
        ("unique", "unique", True, (*t.uniques, *(i for i in t.indexes if i.unique))),
        ("indexes", "index", False, tuple(i for i in t.indexes if not i.unique)),
    )
    for key, fn, unique, members in kinds:
        entries = []
        for ix in members:
            if _column_level(t, ix, unique):
                continue
            if not set(ix.columns) <= columns:
                m.notes.append(f"{t.name}.{ix.name}: an index on expressions, left out")
                continue
            m.uses.add(fn)
            entries.append(_call(fn, [_names(ix.columns)], [("name", py(ix.name))]))
        if entries:
            block.append((key, entries))
    if t.checks:
        m.uses.add("check")
        block.append(("checks", [_call("check", [py(c.expression)], [("name", py(c.name))]) for c in t.checks]))
    if block:
        lines.append("    database = {")
        for key, entries in block:
            lines.append(f"        {py(key)}: [")
            lines += [f"            {e}," for e in entries]
            lines.append("        ],")
        lines.append("    }")
    return lines


def generate(
    state: State, connection: str, expressions: dict[tuple[str, str], str] | None = None
) -> tuple[str, list[str]]:
    """The models module of ``state``'s tables, and what it cannot say (notes)."""
    expressions = expressions or {}
    classes: dict[str, str] = {}
    used = set(DSL_NAMES)
    for name in sorted(state.tables):
        cls = class_name(name)
        base, n = cls, 2
        while cls in used:
            cls, n = f"{base}{n}", n + 1
        used.add(cls)
        classes[name] = cls
    models = [ModelSource(state.tables[n], classes[n]) for n in sorted(state.tables)]
    bodies = [model_source(m, classes, expressions) for m in models]
    uses = {"Model"} | {u for m in models for u in m.uses}
    notes = [note for m in models for note in m.notes]
    out = [
        f'"""The tables of connection {connection} as models (written by modelmig make:models)."""',
        "",
        f"from modelmig_core import {', '.join(n for n in DSL_NAMES if n in uses)}",
    ]
    for m, body in zip(models, bodies, strict=True):
        out += ["", ""]
        out += [f"# {note}" for note in m.notes]
        out += body
    return "\n".join(out) + "\n", notes


# ---------------------------------------------------------------- the command


def _selection(state: State, tables: list[str], warn: Echo) -> State:
    """The tables asked for, with the tables their foreign keys reference."""
    if not tables:
        return state
    unknown = [t for t in tables if t not in state.tables]
    if unknown:
        raise ConfigError(f"--table {unknown[0]}: no such table in the database")
    chosen: list[str] = []
    todo = list(tables)
    while todo:
        name = todo.pop(0)
        if name in chosen or name not in state.tables:
            continue
        chosen.append(name)
        for fk in state.tables[name].foreign_keys:
            if fk.ref_table not in chosen and fk.ref_table not in todo:
                if fk.ref_table not in tables:
                    warn(f"warning: including table {fk.ref_table}: {name}.{fk.name} references it")
                todo.append(fk.ref_table)
    return State({n: state.tables[n] for n in sorted(chosen)})


def default_path(config: Config) -> Path:
    """The file of the first configured models module (blog.models -> blog/models.py)."""
    if not config.models:
        raise ConfigError(f"{config.path}: no models module is configured: pass --out FILE")
    return config.root / (config.models[0].replace(".", "/") + ".py")


def ruff_format(path: Path, cwd: Path) -> bool:
    """``ruff format`` the file when ruff is installed (the project's ruff settings
    apply); False when it is not."""
    exe = shutil.which("ruff")
    if exe is not None:
        command = [exe, "format", str(path)]
    elif importlib.util.find_spec("ruff") is not None:
        command = [sys.executable, "-m", "ruff", "format", str(path)]
    else:
        return False
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    return result.returncode == 0


def reflect_for_models(target: Target) -> tuple[State, dict[tuple[str, str], str]]:
    driver = target.driver
    if not driver.features.sql:
        raise ModelmigError(
            f"make:models reads SQL databases; connection {target.name} uses the {driver.name} driver "
            f"({driver.info.family} family)"
        )
    with driver.connect(target.url) as session:
        reflection = getattr(driver, "reflection", None)
        if reflection is not None:
            r = reflection(session)
            return r.state(), dict(r.expression_defaults)
        return driver.reflect(session), {}


def unsaid(source: str, live: State, target: Target) -> list[str]:
    """What the generated models, compiled back, say differently from the live schema."""
    from .compile import compile_sql_models
    from .differences import compare_relational
    from .model import Model

    namespace: dict[str, Any] = {"__name__": "modelmig_make_models"}
    exec(compile(source, "<make:models>", "exec"), namespace)
    models = [v for v in namespace.values() if isinstance(v, type) and issubclass(v, Model) and v is not Model]
    compiled = compile_sql_models(models)
    driver = target.driver
    # the database as "expected", the models as "live": missing = not in the models
    comparison = compare_relational(driver.comparable(live), driver.comparable(compiled), set(live.tables))
    swap = {"in the database": "in the models", "in the migrations": "in the database"}
    out = []
    for d in comparison.differences:
        line = d.line
        for old, new in swap.items():
            line = line.replace(old, "\0" + new)
        out.append(line.replace("\0", "") + (" (not in the models)" if d.change == "missing" else ""))
    return out


def write_models(
    config: Config, target: Target, out: str | None, tables: list[str], force: bool, echo: Echo, warn: Echo
) -> Path | None:
    live, expressions = reflect_for_models(target)
    if not live.tables:
        raise ModelmigError(f"{target.name}: the database has no table to write a model for")
    state = _selection(live, tables, warn)
    source, notes = generate(state, target.name, expressions)
    for note in notes:
        warn(f"warning: {note}")
    try:
        mismatches = unsaid(source, state, target)
    except ModelmigError as exc:
        raise ModelmigError(f"make:models wrote models that do not compile ({exc}); please report this") from None
    for line in mismatches:
        warn(f"warning: the models differ from the database: {line}")
    if out == "-":
        echo(source.rstrip("\n"))
        return None
    path = Path(out) if out else default_path(config)
    if not path.is_absolute():
        path = Path(os.getcwd()) / path
    if path.exists() and not force:
        raise ConfigError(f"{path} exists: pass --force to overwrite it (or --out FILE)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(source, encoding="utf-8")
    tmp.replace(path)
    ruff_format(path, config.root)
    rel = os.path.relpath(path, Path.cwd())
    echo(f"Wrote {rel}: {len(state.tables)} model(s) from connection {target.name}")
    return path
