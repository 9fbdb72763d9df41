"""What MySQL 8.0/8.4 refuses that MariaDB 10.11 accepts, checked at make time
(``MysqlDriver.refusals``). Sources: the MySQL 8.4 Reference Manual, "CREATE
INDEX Statement → Column Prefix Key Parts" (an index on BLOB/TEXT needs a prefix
length, error 1170; JSON columns cannot be indexed directly, 3152) and "InnoDB
Limits" (an index key is at most 3072 bytes with DYNAMIC rows, error 1071).
MariaDB turns the first two into hash keys silently, so the same models would
behave differently there: they are refused on every server of this driver.
"""

from __future__ import annotations

from typing import Any

from modelmig_core.api import Refusal, type_of

MAX_KEY_BYTES = 3072


def key_bytes(column: Any) -> int | None:
    """The most bytes one column takes in an index key (utf8mb4: 4 bytes a
    character), its type object's ``key_bytes``; None: no key without a prefix."""
    return type_of(column.type).key_bytes(column)


def ddl_name(column: Any) -> str:
    """The MySQL type a column is made as (``TEXT``, ``BLOB``, ``JSON``)."""
    from sqlalchemy.dialects import mysql

    from .render import MysqlRenderer

    make = MysqlRenderer.types.get(column.type) or type_of(column.type).ddl.get("mysql")
    if make is None:
        return column.type
    return str(make(column).compile(dialect=mysql.dialect())).split("(")[0]


def keys_of(table: Any) -> list[tuple[str, tuple[str, ...]]]:
    """Every key of a table, as (what it is, its columns): indexes, unique
    constraints (a ``unique=True`` column is one) and the primary key. The rules
    hold for each alike: MySQL builds every one of them as an index."""
    keys = [(f"index {ix.name}", ix.columns) for ix in table.indexes if not ix.kind]  # FULLTEXT/SPATIAL: no key
    keys += [(f"unique key {u.name}", u.columns) for u in table.uniques]
    if table.primary_key:
        keys.append(("the primary key", table.primary_key))
    return keys


def prefixes_of(table: Any) -> dict[str, dict[str, int]]:
    """The prefix lengths (characters) of each index's columns, by the key's label."""
    out = {
        f"index {ix.name}": {c: n for c, n in zip(ix.columns, ix.lengths, strict=False) if n is not None}
        for ix in table.indexes
        if ix.lengths
    }
    primary = {c.name: c.primary_length for c in table.columns if c.primary and c.primary_length is not None}
    if primary:
        out["the primary key"] = primary
    return out


def index_refusals(state: Any) -> list[Refusal]:
    out = []
    for table in state.tables.values():
        columns = {c.name: c for c in table.columns}
        prefixes = prefixes_of(table)
        for key, names in keys_of(table):
            cols = [columns[c] for c in names if c in columns]
            prefix = prefixes.get(key, {})
            bad = next((c for c in cols if key_bytes(c) is None and c.name not in prefix), None)
            if bad is not None:
                kind = ddl_name(bad)
                out.append(
                    Refusal(
                        table.name,
                        bad.name,
                        f"{key} is on a {kind} column, which MySQL 8 cannot index without a prefix "
                        "length (MariaDB silently makes a hash key of it): index a string(n) column instead",
                    )
                )
                continue
            total = sum(4 * prefix[c.name] if c.name in prefix else key_bytes(c) or 0 for c in cols)
            if total > MAX_KEY_BYTES:
                out.append(
                    Refusal(
                        table.name,
                        cols[0].name,
                        f"{key} is up to {total} bytes long in utf8mb4; MySQL allows {MAX_KEY_BYTES} "
                        "(error 1071): shorten its string columns",
                    )
                )
    return out


#: control and format characters that ``utf8mb4_unicode_ci`` (UCA 4.0.0) weighs;
#: every other one of those categories, and every combining mark, it ignores
WEIGHED = frozenset("\t\n\x0b\x0c\r\x85\xad")


def collation_key(value: str) -> str:
    """What ``utf8mb4_unicode_ci`` compares of an ENUM value: trailing spaces
    dropped (PAD SPACE drops U+0020 only), compatibility forms and accents folded
    (NFKD, combining marks ignored), ignorable controls and format characters
    dropped (NUL among them), case folded. Two values with one key are one to the
    server: it refuses the column (error 1291). Held against MariaDB 10.11 by
    ``tests/test_mysql8_rules.py`` (random pairs over letters, accents, ligatures,
    spaces, controls and invisible characters: the server refuses exactly the pairs
    with one key)."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", value.rstrip(" "))
    kept = "".join(c for c in folded if c in WEIGHED or unicodedata.category(c) not in ("Mn", "Cc", "Cf"))
    return kept.casefold()


def enum_refusals(state: Any) -> list[Refusal]:
    """ENUM and SET values MySQL would change silently: MariaDB keeps no character
    beyond U+FFFF in them (it writes '?'); both drop their trailing spaces and
    compare them by the table's collation (case, accents, ligatures and ignorable
    characters such as NUL do not count), so two values equal by it are one."""
    out = []
    for table in state.tables.values():
        for col in table.columns:
            if col.type not in ("enum", "set") or not col.values:
                continue
            kind = col.type
            wide = next((v for v in col.values if any(ord(ch) > 0xFFFF for ch in v)), None)
            if wide is not None:  # MariaDB keeps ENUM/SET definitions in 3-byte UTF-8 (measured on 10.11)
                out.append(
                    Refusal(
                        table.name,
                        col.name,
                        f"{kind} value {wide!r} holds a character beyond U+FFFF, which MariaDB stores as '?'",
                    )
                )
            trailing = next((v for v in col.values if v != v.rstrip(" ")), None)
            if trailing is not None:
                out.append(
                    Refusal(table.name, col.name, f"{kind} value {trailing!r} ends in a space, which MySQL drops")
                )
            seen: dict[str, str] = {}
            for value in col.values:
                other = seen.setdefault(collation_key(value), value)
                if other != value:
                    out.append(
                        Refusal(
                            table.name,
                            col.name,
                            f"{kind} values {other!r} and {value!r} are one value to MySQL's collation "
                            "(it ignores case, accents, trailing spaces and invisible characters)",
                        )
                    )
                    break
    return out
