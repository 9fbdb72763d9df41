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

from modelmig_core.api import Refusal

MAX_KEY_BYTES = 3072
UNINDEXABLE = {"text": "TEXT", "binary": "BLOB", "json": "JSON"}
FIXED_BYTES = {
    "integer": 4,
    "bigInteger": 8,
    "smallInteger": 2,
    "boolean": 1,
    "float": 4,
    "double": 8,
    "date": 3,
    "time": 6,
    "timestamp": 8,
    "enum": 2,
    "uuid": 36 * 4,  # CHAR(36) in utf8mb4
}


def key_bytes(column: Any) -> int:
    """The most bytes one column takes in an index key (utf8mb4: 4 bytes a character)."""
    if column.type == "string":
        return 4 * (column.length or 255)
    if column.type == "decimal":
        return (column.precision or 8) // 2 + 1
    return FIXED_BYTES.get(column.type, 8)


def index_refusals(state: Any) -> list[Refusal]:
    out = []
    for table in state.tables.values():
        columns = {c.name: c for c in table.columns}
        for ix in table.indexes:
            cols = [columns[c] for c in ix.columns if c in columns]
            bad = next((c for c in cols if c.type in UNINDEXABLE), None)
            if bad is not None:
                kind = UNINDEXABLE[bad.type]
                out.append(
                    Refusal(
                        table.name,
                        bad.name,
                        f"index {ix.name} is on a {kind} column, which MySQL 8 cannot index without a prefix "
                        "length (MariaDB silently makes a hash key of it): index a string(n) column instead",
                    )
                )
                continue
            total = sum(key_bytes(c) for c in cols)
            if total > MAX_KEY_BYTES:
                out.append(
                    Refusal(
                        table.name,
                        cols[0].name,
                        f"index {ix.name} is up to {total} bytes long in utf8mb4; MySQL allows {MAX_KEY_BYTES} "
                        "(error 1071): shorten its string columns",
                    )
                )
    return out
