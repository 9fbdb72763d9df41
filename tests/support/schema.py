"""Compare a live database (reflected with SQLAlchemy's Inspector) with a state.

Both sides are brought to one normalized form per table: column types as the
dialect compiles them, nullability, default (``now`` or the literal), primary
key, indexes, unique constraints, foreign keys and checks (with the enum checks
of a database that has no enum type). Dialect details (MySQL's automatic FK
indexes, default spellings) are normalized here, in test code.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from modelmig_core.driver import LEDGER
from modelmig_core.state import State


def norm_default(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if text.upper() == "NULL":
        return None
    if re.search(r"current_timestamp|now\(\)", text, re.IGNORECASE):
        return "now"
    text = re.sub(r"::[\w\s]+(\[\])?$", "", text)  # PostgreSQL casts
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    if len(text) >= 2 and text[0] == text[-1] == "'":
        text = text[1:-1].replace("''", "'")
    return text.lower() if text.lower() in ("true", "false") else text


def norm_bool_default(text: str | None) -> str | None:
    return {"true": "1", "false": "0"}.get(text or "", text)


def norm_action(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.upper()
    return None if value in ("NO ACTION", "RESTRICT") else value


def norm_check(text: str) -> str:
    text = re.sub(r"::(text|character varying|varchar|integer|bigint|numeric)\b", "", str(text))  # PostgreSQL casts
    text = re.sub(r"[\s()`\"]", "", text).lower()
    return text.replace("char_length", "length").replace("octet_length", "length")


def type_text(type_: Any, dialect: Any) -> str:
    if isinstance(type_, sa.Enum) and type_.enums:  # native enums compare by their values, not their type name
        return "enum(" + ",".join(type_.enums) + ")"
    text = str(type_.compile(dialect=dialect)).lower()
    return re.sub(r"^(tinyint|smallint|mediumint|integer|int|bigint)\(\d+\)", r"\1", text)  # MariaDB display widths


def reflect(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    insp = sa.inspect(engine)
    dialect = engine.dialect
    out: dict[str, dict[str, Any]] = {}
    for table in sorted(insp.get_table_names()):
        if table == LEDGER or table.startswith("modelmig_"):
            continue
        columns = {
            c["name"]: {
                "type": type_text(c["type"], dialect),
                "nullable": bool(c["nullable"]),
                "default": norm_bool_default(norm_default(c.get("default"))),
                **({"comment": c.get("comment") or None} if dialect.supports_comments else {}),
            }
            for c in insp.get_columns(table)
        }
        json_checks = mariadb_json_columns(insp, table)
        for name in json_checks.values():
            columns[name]["type"] = "json"
        fks = {
            fk["name"]: (
                tuple(fk["constrained_columns"]),
                fk["referred_table"],
                tuple(fk["referred_columns"]),
                norm_action(fk.get("options", {}).get("ondelete")),
                norm_action(fk.get("options", {}).get("onupdate")),
            )
            for fk in insp.get_foreign_keys(table)
        }
        uniques = {u["name"]: tuple(u["column_names"]) for u in insp.get_unique_constraints(table)}
        indexes = {
            i["name"]: (tuple(i["column_names"]), bool(i["unique"]))
            for i in insp.get_indexes(table)
            if i["name"] not in fks  # MySQL adds an index for each FK
            and i["name"] not in uniques
            and not i.get("duplicates_constraint")  # the index behind a unique constraint
        }
        checks = {
            c["name"]: norm_check(c["sqltext"])
            for c in insp.get_check_constraints(table)
            if c.get("name") and c["name"] not in json_checks
        }
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
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(state.tables):
        t = state.tables[name]
        columns = {}
        for c in t.columns:
            default = None
            if c.default_now:
                default = "now"
            elif c.default is not None:
                default = norm_bool_default(norm_default(renderer.literal(c.default)))
            columns[c.name] = {
                "type": type_text(renderer.column_type(c), dialect),
                "nullable": c.nullable,
                "default": default,
                **({"comment": c.comment} if dialect.supports_comments else {}),
            }
        # MySQL cannot tell a unique index (what older migration files made) from a unique key
        unique_is_key = dialect.name == "mysql"
        uniques = {u.name: u.columns for u in getattr(t, "uniques", ())}
        uniques |= {i.name: i.columns for i in t.indexes if i.unique and unique_is_key}
        checks = {c.name: norm_check(c.expression) for c in t.checks}
        checks |= {c.name: norm_check(c.expression) for c in getattr(renderer, "enum_checks", lambda _t: [])(t)}
        out[name] = {
            "columns": columns,
            "primary_key": t.primary_key,
            "indexes": {i.name: (i.columns, i.unique) for i in t.indexes if not (i.unique and unique_is_key)},
            "uniques": uniques,
            "foreign_keys": {
                f.name: (f.columns, f.ref_table, f.ref_columns, norm_action(f.on_delete), norm_action(f.on_update))
                for f in t.foreign_keys
            },
            "checks": checks,
        }
    return out


def assert_schema(engine: sa.Engine, state: State, renderer: Any) -> None:
    live = reflect(engine)
    want = expected(state, renderer)
    assert sorted(live) == sorted(want), f"tables differ: live {sorted(live)} vs models {sorted(want)}"
    for table in want:
        for key in ("columns", "primary_key", "indexes", "uniques", "foreign_keys", "checks"):
            assert live[table][key] == want[table][key], (
                f"{table}.{key}: live {live[table][key]!r} != {want[table][key]!r}"
            )


def mariadb_json_columns(insp: Any, table: str) -> dict[str, str]:
    """MariaDB's JSON is LONGTEXT with a column-level ``CHECK (json_valid(col))``:
    such columns compare as ``json``. {check name: column}; the check keeps the
    column's first name when the column is renamed."""
    if not getattr(insp.dialect, "is_mariadb", False):
        return {}
    with insp.bind.connect() as c:
        found = c.execute(
            sa.text(
                "SELECT constraint_name, check_clause FROM information_schema.check_constraints "
                "WHERE constraint_schema = DATABASE() AND table_name = :t AND level = 'Column'"
            ),
            {"t": table},
        )
        columns = {col["name"].lower(): col["name"] for col in insp.get_columns(table)}
        out = {}
        for name, clause in found:
            text = norm_check(clause)
            if text.startswith("json_valid") and text[len("json_valid") :] in columns:
                out[name] = columns[text[len("json_valid") :]]
        return out


def enum_types(engine: sa.Engine) -> list[str]:
    """Named enum types left in the database (PostgreSQL); [] where enums are not types."""
    insp = sa.inspect(engine)
    get_enums = getattr(insp, "get_enums", None)
    return sorted(e["name"] for e in get_enums()) if get_enums else []
