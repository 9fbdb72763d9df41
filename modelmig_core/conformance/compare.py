"""The live schema against the state the migrations add up to.

The live side is read through the driver's ``inspect(url)``: SQLAlchemy's
Inspector by default, or an object with its ``get_*`` methods that the driver
provides where the SQLAlchemy dialect cannot reflect (DuckDB). Both sides are
brought to one normalized form per table: column types as the renderer's dialect
compiles them, nullability, default (``now`` or the literal), comment, primary
key, indexes, unique constraints, foreign keys (actions RESTRICT/NO ACTION as
none) and checks (with the enum checks of a database that has no enum type)
(whitespace, quotes and parentheses aside). What a dialect reports in its own
way beyond this is normalized by its driver's ``inspect``.
"""

from __future__ import annotations

import re
from typing import Any

from ..driver import LEDGER
from ..state import State


def norm_default(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if text.upper() == "NULL":
        return None
    if re.search(r"current_timestamp|now\(\)", text, re.IGNORECASE):
        return "now"
    text = re.sub(r"::[\w\s]+(\[\])?$", "", text)  # casts (PostgreSQL)
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    if len(text) >= 2 and text[0] == text[-1] == "'":
        text = text[1:-1].replace("''", "'")
    return {"true": "1", "false": "0"}.get(text.lower(), text)


def norm_action(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.upper()
    return None if value in ("NO ACTION", "RESTRICT") else value


def norm_check(text: str) -> str:
    text = re.sub(r"::(text|character varying|varchar|integer|bigint|numeric)\b", "", str(text))  # casts
    text = re.sub(r"[\s()`\"]", "", text).lower()
    return text.replace("char_length", "length").replace("octet_length", "length")


def type_text(type_: Any, dialect: Any) -> str:
    if isinstance(type_, str):
        return type_.lower()
    values = getattr(type_, "enums", None)
    if values and getattr(type_, "native_enum", True):  # native enums compare by their values
        return "enum(" + ",".join(values) + ")"
    text = str(type_.compile(dialect=dialect)).lower()
    return re.sub(r"^(tinyint|smallint|mediumint|integer|int|bigint)\(\d+\)", r"\1", text)  # display widths


def reflect(insp: Any, dialect: Any) -> dict[str, dict[str, Any]]:
    """{table: normalized description} of every table but modelmig's own."""
    out: dict[str, dict[str, Any]] = {}
    comments = bool(getattr(dialect, "supports_comments", False))
    for table in sorted(insp.get_table_names()):
        if table == LEDGER or table.startswith("modelmig_"):
            continue
        columns = {
            c["name"]: {
                "type": type_text(c["type"], dialect),
                "nullable": bool(c["nullable"]),
                "default": norm_default(c.get("default")),
                **({"comment": c.get("comment") or None} if comments else {}),
            }
            for c in insp.get_columns(table)
        }
        fks = {
            fk["name"]: (
                tuple(fk["constrained_columns"]),
                fk["referred_table"],
                tuple(fk["referred_columns"]),
                norm_action((fk.get("options") or {}).get("ondelete")),
                norm_action((fk.get("options") or {}).get("onupdate")),
            )
            for fk in insp.get_foreign_keys(table)
        }
        uniques = {u["name"]: tuple(u["column_names"]) for u in insp.get_unique_constraints(table)}
        indexes = {
            i["name"]: (tuple(i["column_names"]), bool(i["unique"]))
            for i in insp.get_indexes(table)
            if i["name"] not in fks  # the index a server makes for a foreign key
            and i["name"] not in uniques
            and not i.get("duplicates_constraint")  # the index behind a unique constraint
        }
        checks = {c["name"]: norm_check(c["sqltext"]) for c in insp.get_check_constraints(table) if c.get("name")}
        out[table] = {
            "columns": columns,
            "primary_key": tuple(insp.get_pk_constraint(table)["constrained_columns"]),
            "indexes": indexes,
            "uniques": uniques,
            "foreign_keys": fks,
            "checks": checks,
        }
    return out


def expected(state: State, renderer: Any) -> dict[str, dict[str, Any]]:
    """What the reflection of ``state`` rendered by ``renderer`` should look like."""
    dialect = renderer.dialect
    comments = bool(getattr(dialect, "supports_comments", False))
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(state.tables):
        t = state.tables[name]
        columns = {}
        for c in t.columns:
            default = None
            if c.default_now:
                default = "now"
            elif c.default is not None:
                default = norm_default(renderer.literal(c.default))
            columns[c.name] = {
                "type": type_text(renderer.column_type(c), dialect),
                "nullable": c.nullable,
                "default": default,
                **({"comment": c.comment} if comments else {}),
            }
        # MySQL cannot tell a unique index (what older migration files made) from a unique key
        unique_is_key = dialect.name == "mysql"
        uniques = {u.name: u.columns for u in t.uniques}
        uniques |= {i.name: i.columns for i in t.indexes if i.unique and unique_is_key}
        indexes = {i.name: (i.columns, i.unique) for i in t.indexes if not (i.unique and unique_is_key)}
        if getattr(renderer, "unique_constraints_as_indexes", False):  # a driver that makes them unique indexes
            indexes |= {name: (columns, True) for name, columns in uniques.items()}
            uniques = {}
        checks = {c.name: norm_check(c.expression) for c in t.checks}
        checks |= {c.name: norm_check(c.expression) for c in getattr(renderer, "enum_checks", lambda _t: [])(t)}
        out[name] = {
            "columns": columns,
            "primary_key": t.primary_key,
            "indexes": indexes,
            "uniques": uniques,
            "foreign_keys": {
                f.name: (f.columns, f.ref_table, f.ref_columns, norm_action(f.on_delete), norm_action(f.on_update))
                for f in t.foreign_keys
            },
            "checks": checks,
        }
    return out


def unnamed(described: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Foreign keys and checks compared without their names (a database that does
    not keep them: ``Features.constraint_names`` is false)."""
    return {
        t: {
            **d,
            "foreign_keys": sorted(d["foreign_keys"].values()),
            "checks": sorted(d["checks"].values()),
            "uniques": sorted(d["uniques"].values()),
        }
        for t, d in described.items()
    }


def differences(insp: Any, state: State, renderer: Any, names: bool = True) -> list[str]:
    """Where the live schema differs from ``state``; [] when they agree."""
    live = reflect(insp, renderer.dialect)
    want = expected(state, renderer)
    if not names:
        live, want = unnamed(live), unnamed(want)
    if sorted(live) != sorted(want):
        return [f"tables differ: live {sorted(live)} vs migrations {sorted(want)}"]
    out = []
    for table in want:
        for key in ("columns", "primary_key", "indexes", "uniques", "foreign_keys", "checks"):
            if live[table][key] != want[table][key]:
                out.append(f"{table}.{key}: live {live[table][key]!r} != expected {want[table][key]!r}")
    return out


def enum_types(insp: Any) -> list[str]:
    """Named enum types left in the database (PostgreSQL); [] where enums are not types."""
    get_enums = getattr(insp, "get_enums", None)
    return sorted(e["name"] for e in get_enums()) if get_enums else []
