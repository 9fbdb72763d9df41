"""Property tests (Hypothesis): a random schema A and a random change B of it.

Pure: the diff of A and B applied to A gives B, its inverse brings B back to A,
and a rendered migration file loads back into the same operations.

On SQLite, PostgreSQL and MariaDB: make A, run, insert rows, make B, run, the
reflected schema equals B and the rows of every surviving column are intact;
roll back, the reflected schema equals A; reset leaves only the ledger.

How many examples: the ``MODELMIG_HYPOTHESIS_PROFILE`` environment variable
picks a profile — ``ci`` (the default: the same 12 examples per driver and 150
pure ones on every run) or ``fuzz`` (500 new ones per driver, 2000 pure;
``nox -s fuzz``). A failure Hypothesis
finds is shrunk and kept as a regular test below.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelmig_core import commands
from modelmig_core.driver import LEDGER
from modelmig_core.history.migrations import MigrationFile, load, render
from modelmig_core.schema.diff import DiffHints, diff_states, inverse_operations
from modelmig_core.schema.state import State
from tests.support.fuzz import Change, changes, plain, schemas, value
from tests.support.schema import check, renderer, types
from tests.support.servers import ServerDb

SLOW = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]
# ci: the same examples on every run (derandomized), so the suite never flakes; fuzz: new ones each run
settings.register_profile(
    "ci", max_examples=6, deadline=None, suppress_health_check=SLOW, print_blob=True, derandomize=True
)
settings.register_profile("fuzz", max_examples=500, deadline=None, suppress_health_check=SLOW, print_blob=True)
PROFILE = os.environ.get("MODELMIG_HYPOTHESIS_PROFILE", "ci")
PURE_EXAMPLES = {"ci": 150, "fuzz": 2000}.get(PROFILE, 150)
settings.load_profile(PROFILE)


@st.composite
def schema_and_change(draw: Any) -> tuple[State, Change]:
    a = draw(schemas())
    return a, draw(changes(a))


def replay(state: State, ops: list[Any]) -> State:
    for op in ops:
        state = op.state_forwards(state)
    return state


# ---------------------------------------------------------------- pure properties


@settings(max_examples=PURE_EXAMPLES)
@given(schema_and_change())
def test_diff_applied_to_a_gives_b_and_its_inverse_gives_a(case: tuple[State, Change]) -> None:
    a, change = case
    ops = diff_states(a, change.state, change.hints)
    assert replay(a, ops).canonical() == change.state.canonical()
    assert replay(change.state, inverse_operations(ops)).canonical() == a.canonical()
    assert diff_states(change.state, change.state) == []


@settings(max_examples=PURE_EXAMPLES)
@given(schema_and_change())
def test_a_rendered_migration_file_loads_back_into_the_same_operations(
    tmp_path_factory: Any, case: tuple[State, Change]
) -> None:
    a, change = case
    ops = diff_states(a, change.state, change.hints)
    down = inverse_operations(ops)
    folder = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()))
    path = folder / "20260101000000_change.py"
    path.write_text(render("20260101000000_change", "sql", None, ops, down))
    loaded = load(MigrationFile("20260101000000_change", path, "sql"))
    assert loaded.up == ops and loaded.down == down


# ---------------------------------------------------------------- on real servers


def write_migration(root: Path, mid: str, parent: str | None, old: State, new: State, hints: DiffHints) -> None:
    ops = diff_states(old, new, hints)
    folder = root / "migrations" / "sql"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{mid}.py").write_text(render(mid, "sql", parent, ops, inverse_operations(ops)))


def insert_rows(db: ServerDb, state: State) -> dict[str, list[dict[str, Any]]]:
    """Two rows per table, parents first (A's foreign keys point at earlier tables)."""
    r = renderer(db.driver)
    rows: dict[str, list[dict[str, Any]]] = {}
    engine = db.engine()
    try:
        with engine.begin() as c:
            for name in sorted(state.tables):
                t = state.tables[name]
                table = r.sa_table(t)
                batch = []
                for i in (1, 2):
                    row = {
                        col.name: (i if col.primary or col.name.endswith("_id") else value(col, i)) for col in t.columns
                    }
                    for col in t.columns:
                        if isinstance(table.c[col.name].type, sa.CHAR) and col.type == "uuid":
                            row[col.name] = str(row[col.name])
                    batch.append(row)
                c.execute(table.insert(), batch)
                rows[name] = batch
    finally:
        engine.dispose()
    return rows


def read_rows(db: ServerDb, state: State, table: str, cols: list[str]) -> list[tuple[Any, ...]]:
    t = renderer(db.driver).sa_table(state.tables[table])
    engine = db.engine()
    try:
        with engine.connect() as c:
            result = c.execute(sa.select(*[t.c[n] for n in cols]).order_by(t.c["id"]))
            return [tuple(plain(v) for v in row) for row in result]
    finally:
        engine.dispose()


def wipe(db: ServerDb) -> None:
    """Drop everything a failed example may have left (Hypothesis runs many on one database)."""
    engine = db.engine()
    try:
        insp = sa.inspect(engine)
        names = insp.get_table_names()
        views = insp.get_view_names()
    finally:
        engine.dispose()
    if db.driver == "mysql":
        statements = ["SET FOREIGN_KEY_CHECKS = 0", *[f"DROP TABLE IF EXISTS `{n}`" for n in names]]
        statements.append("SET FOREIGN_KEY_CHECKS = 1")
    elif db.driver == "pg":
        statements = [f'DROP TABLE IF EXISTS "{n}" CASCADE' for n in names]
        statements += [f'DROP TYPE IF EXISTS "{e}" CASCADE' for e in types(db)]
    else:
        statements = ["PRAGMA foreign_keys=OFF", *[f'DROP TABLE IF EXISTS "{n}"' for n in names]]
    statements = [*(f"DROP VIEW IF EXISTS {v}" for v in views), *statements]
    engine = db.engine()
    try:
        with engine.connect() as c:
            for s in statements:
                c.execute(sa.text(s))
            c.commit()
    finally:
        engine.dispose()


def lifecycle(db: ServerDb, a: State, change: Change) -> None:
    """make A, run, rows, make B, run, reflect == B, rows intact, rollback,
    reflect == A, reset leaves only the ledger."""
    wipe(db)
    root = Path(tempfile.mkdtemp(prefix="mm_prop_"))
    (root / "pyproject.toml").write_text(
        f'[tool.modelmig]\nmodels = ["models"]\nmigrations = "migrations"\n[tool.modelmig.connections.main]\nurl = "{db.url}"\n'
    )
    cwd = os.getcwd()
    try:
        write_migration(root, "20260101000000_a", None, State(), a, DiffHints())
        project = commands.open_project(root / "pyproject.toml")
        commands.run(project)
        check(db, a)
        before = insert_rows(db, a)
        write_migration(root, "20260102000000_b", "20260101000000_a", a, change.state, change.hints)
        commands.run(project, force=True, yes=True)
        check(db, change.state)
        for name, t in change.state.tables.items():
            kept = [(c.name, change.origin[(name, c.name)]) for c in t.columns if (name, c.name) in change.origin]
            if not kept:
                continue
            old_table = kept[0][1][0]
            live = read_rows(db, change.state, name, [n for n, _ in kept])
            want = [
                tuple(plain(row[old_col] if old_col != "id" else row["id"]) for _, (_, old_col) in kept)
                for row in before[old_table]
            ]
            assert live == want, f"rows of {name} changed: {live} != {want}"
        commands.rollback(project, force=True, yes=True)
        check(db, a)
        commands.reset(project, force=True, yes=True)
        engine = db.engine()
        try:
            assert sa.inspect(engine).get_table_names() == [LEDGER]
            assert types(db) == []
        finally:
            engine.dispose()
    finally:
        os.chdir(cwd)
        shutil.rmtree(root, ignore_errors=True)  # Hypothesis runs it many times: never leave a folder behind


@given(case=schema_and_change())
def test_a_and_b_on_a_real_database(any_db: ServerDb, case: tuple[State, Change]) -> None:
    lifecycle(any_db, *case)
