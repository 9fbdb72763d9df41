"""What a MySQL/MariaDB online statement leaves in place (``modelmig_mysql.resume``),
read back from the statement for any names: a resumed run skips a statement only
when the live schema holds exactly the effect named here, so a name read wrong
would skip a statement that never ran. Hypothesis draws the names (quoted as the
driver quotes them: backticks doubled), and ``drops_column`` (what the online
refusal calls a column drop) is checked on the same statements."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from modelmig_mysql.resume import Effect, effects

from modelmig_core.run.lint import drops_column

names = st.sampled_from(["INDEX", "ON", "index", "COLUMN", "KEY", "unique", "a b", "x`y", "1"]) | st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_characters="\x00"), min_size=1, max_size=20
).filter(lambda n: n.strip() == n and n)


def q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@settings(max_examples=150, deadline=None)
@given(table=names, column=names, index=names, other=names)
def test_each_statement_names_its_effect_for_any_names(table: str, column: str, index: str, other: str) -> None:
    t, c, i, o = q(table), q(column), q(index), q(other)
    cases = {
        f"ALTER TABLE {t} ADD COLUMN {c} INT NULL, ALGORITHM=INSTANT": [Effect("column", table, column)],
        f"ALTER TABLE {t} DROP COLUMN {c}, ALGORITHM=INPLACE, LOCK=NONE": [Effect("column", table, column, False)],
        f"CREATE INDEX {i} ON {t} ({c}) ALGORITHM=INPLACE LOCK=NONE": [Effect("index", table, index)],
        f"CREATE UNIQUE INDEX {i} ON {t} ({c}) ALGORITHM=INPLACE LOCK=NONE": [Effect("index", table, index)],
        f"ALTER TABLE {t} DROP INDEX {i}, ALGORITHM=INPLACE, LOCK=NONE": [Effect("index", table, index, False)],
        f"ALTER TABLE {t} RENAME COLUMN {c} TO {o}, ALGORITHM=INPLACE, LOCK=NONE": [
            Effect("column", table, column, False),
            Effect("column", table, other),
        ],
    }
    for statement, expected in cases.items():
        assert effects(statement) == expected, statement
        assert drops_column(statement) == ("DROP COLUMN" in statement), statement


def test_what_cannot_be_named_is_sent_again() -> None:
    for statement in (
        "ALTER TABLE items MODIFY COLUMN qty BIGINT NOT NULL",
        "UPDATE items SET qty = 0 WHERE qty IS NULL",
        "ALTER TABLE items ADD COLUMN a INT, MODIFY COLUMN b INT",
        "SELEKT",
    ):
        assert effects(statement) is None, statement
