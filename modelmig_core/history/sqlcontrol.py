"""Transaction control in hand-written SQL, read with sqlglot's tokenizers (never
regular expressions over SQL).

A transactional migration (``atomic = True``, the default) runs inside one
transaction with its ledger row, so that both commit or neither does. A statement
of its own that ends, commits, rolls back or otherwise steers that transaction
(``COMMIT``, ``END``, ``ROLLBACK``, ``ABORT``, ``SAVEPOINT``/``RELEASE``,
``BEGIN``/``START TRANSACTION``, ``SET autocommit``, ``VACUUM``, ``PREPARE
TRANSACTION``, ``XA``...) would commit half a migration without its ledger row:
``transaction_control`` names each such statement so that the migration file is
refused when it is loaded.

The text is read as each SQL driver's dialect reads it (sqlglot's generic SQL,
PostgreSQL, MySQL/MariaDB, SQLite): a finding in any reading counts. MySQL's
executable comments (``/*! ... */``, ``/*M! ... */``) are SQL to MySQL/MariaDB:
one that holds a transaction-control word counts. Text that a reading cannot
tokenize counts too (fail safe).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

DIALECTS: tuple[str, ...] = ("", "postgres", "mysql", "sqlite")

#: the first word of a statement that steers the transaction
LEADING = {"COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "VACUUM", "XA"}
#: words that, anywhere in a MySQL executable comment, steer the transaction
CONTROL_WORDS = LEADING | {"BEGIN", "START", "AUTOCOMMIT", "COMPLETION_TYPE", "CHAIN"}
#: ``END <word>`` closes one of these blocks, not a BEGIN
END_OF = {"IF", "LOOP", "WHILE", "REPEAT", "FOR", "CASE"}


def _words(tokens: list[Any]) -> list[str | None]:
    """Each token's word (upper case), or None for a string, a quoted name or a symbol.
    The rest of a statement sqlglot reads as an opaque command (``PREPARE ...``) is
    one string token: its first word stands for it."""
    out: list[str | None] = []
    for i, t in enumerate(tokens):
        name = t.token_type.name
        if name == "STRING" and i > 0 and tokens[i - 1].token_type.name == "COMMAND":
            rest = t.text.split(None, 1)
            out.append(rest[0].upper() if rest else None)
        elif "STRING" in name or name == "IDENTIFIER" or (not t.text[:1].isalpha() and t.text[:1] != "_"):
            out.append(None)
        else:
            out.append(t.text.upper())
    return out


def _body(comment: str) -> str | None:
    """The SQL of a MySQL executable comment (``!50000 ...``, ``M!100000 ...``), or
    None for an ordinary comment."""
    text = comment.lstrip()
    if text[:2].upper() == "M!":
        text = text[2:]
    elif text.startswith("!"):
        text = text[1:]
    else:
        return None
    return text.lstrip("0123456789")


def _statement_finding(words: list[str | None]) -> bool:
    """Whether one statement (its words) steers the transaction."""
    if not words:
        return False
    first = words[0]
    second = words[1] if len(words) > 1 else None
    if first in LEADING:
        return True
    if first == "BEGIN":
        return not (second == "NOT" and len(words) > 2 and words[2] == "ATOMIC")  # MariaDB's compound statement
    if first == "START" and second == "TRANSACTION":
        return True
    if first == "PREPARE" and second == "TRANSACTION":
        return True
    if first == "COMMIT":
        return True
    if first == "SET" and any(w in ("AUTOCOMMIT", "COMPLETION_TYPE") for w in words[1:]):
        return True
    return False


def _read(text: str, dialect: str) -> list[str]:
    """The statements of ``text`` that steer the transaction, as ``dialect`` reads it;
    raises sqlglot's TokenError when it cannot be read."""
    from sqlglot.dialects import Dialect

    tokens = Dialect.get_or_raise(dialect or None).tokenize(text + "\n;")
    found: list[str] = []
    words = _words(tokens)
    statement: list[str | None] = []
    start = 0
    depth = 0  # BEGIN ... END and CASE ... END blocks: their semicolons split nothing
    for i, token in enumerate(tokens):
        for comment in token.comments:
            body = _body(comment)
            if body is not None and any(
                w in CONTROL_WORDS for w in _words(Dialect.get_or_raise("mysql").tokenize(body + "\n"))
            ):
                found.append("/*" + comment.strip() + "*/")
        word = words[i]
        if token.token_type.name == "SEMICOLON" and depth == 0:
            if _statement_finding(statement):
                found.append(text[tokens[start].start : tokens[i - 1].end + 1])
            statement, start = [], i + 1
            continue
        if statement and word in ("BEGIN", "CASE"):
            depth += 1
        elif statement and word == "END" and depth > 0:
            following = words[i + 1] if i + 1 < len(words) else None
            if following not in END_OF or following == "CASE":
                depth -= 1
        elif not statement and word == "BEGIN" and i + 2 < len(words) and words[i + 1 : i + 3] == ["NOT", "ATOMIC"]:
            depth += 1
        statement.append(word)
    return found


def transaction_control(sql: str | Sequence[str]) -> list[str]:
    """Each statement of ``sql`` that commits, rolls back or otherwise steers the
    transaction it runs in, as a short quoted line; an empty list when none does."""
    from sqlglot.errors import SqlglotError

    from ..schema.sqltext import snippet

    texts = [sql] if isinstance(sql, str) else list(sql)
    out: list[str] = []
    for text in texts:
        found: list[str] = []
        for dialect in DIALECTS:
            try:
                hits = _read(text, dialect)
            except SqlglotError:
                hits = [f"{text} (cannot be read as SQL)"]
            found += [h for h in hits if h not in found]
        out += [snippet(h) for h in found]
    return out
