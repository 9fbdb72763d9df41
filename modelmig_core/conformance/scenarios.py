"""The scenarios every driver of the relational family must pass. Each gets an
empty database, raises AssertionError (or any error) to fail, and names the
``Features`` flags it needs: a driver that declares one of them false skips it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..driver import Features
from . import fixtures as fx
from .workspace import Workspace


@dataclass(frozen=True)
class Scenario:
    """One check of the kit. It applies to a driver that declares every flag of
    ``requires`` true and every flag of ``unless`` false; ``why_not`` says, for a
    driver it does not apply to, why (shown as "n/a" in the table)."""

    name: str
    doc: str
    requires: tuple[str, ...]
    run: Callable[[Workspace], None]
    unless: tuple[str, ...] = ()
    note: str = ""  # what "n/a" means here, in words ("not enforced by this database")

    def why_not(self, features: Features) -> str | None:
        """None when the scenario applies to a driver with ``features``; else why not."""
        lacking = features.lacking(self.requires)
        if lacking:
            return f"{self.note} ({lacking[0]}=False)" if self.note else f"declared {lacking[0]}=False"
        having = [flag for flag in self.unless if getattr(features, flag, False)]
        if having:
            return f"{self.note} ({having[0]}=True)" if self.note else f"declared {having[0]}=True"
        return None


SCENARIOS: list[Scenario] = []


def scenario(
    *requires: str, unless: tuple[str, ...] = (), note: str = ""
) -> Callable[[Callable[[Workspace], None]], Callable[[Workspace], None]]:
    def register(fn: Callable[[Workspace], None]) -> Callable[[Workspace], None]:
        doc = (fn.__doc__ or "").strip().splitlines()[0]
        SCENARIOS.append(Scenario(fn.__name__, doc, ("sql", *requires), fn, unless, note))
        return fn

    return register


def equal(got: Any, want: Any, what: str) -> None:
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, expected {want!r}")


def seed_blog(ws: Workspace) -> None:
    ws.insert(
        "authors",
        {
            "email": "ann@example.com",
            "name": "Ann",
            "token": "6f1c6a36-2b0e-4c55-9f43-3c1f3b1f0001",
            "legacy_code": "42",
            "bio": "hello",
        },
    )
    author = ws.rows("SELECT id FROM authors")[0][0]
    ws.insert("posts", {"author_id": int(author), "title": "First post", "slug": "first", "body": "Body text"})


def seed_gadgets(ws: Workspace) -> None:
    ws.insert("gadgets", {"code": "g1", "name": "Gizmo", "legacy_code": "42", "notes": "n", "size": 3})
    ws.insert("widgets", {"label": "w1"})
    ws.insert("scraps", {"note": "s1"})


# The fixtures leave out what a driver declares it lacks (foreign keys, unique
# keys, auto-increment keys, checks: ``fixtures.adapted``), so a scenario names
# only the flags of what it changes; the table says what was left out.


# ---------------------------------------------------------------- the schema


@scenario()
def fixture_schema(ws: Workspace) -> None:
    """every column type and option, indexes, FKs, checks: make -> run -> reflect; reset; fresh"""
    ws.models(fx.V1)
    ws.cli("make:migration", "--name", "create_blog")
    ws.cli("migrate:run")
    s0, s1 = ws.states()
    ws.check(s1, "migrate:run")
    seed_blog(ws)
    status = ws.cli("migrate:status", "--json")
    equal([m["status"] for m in json.loads(status)["connections"][0]["migrations"]], ["applied"], "status")
    ws.cli("migrate:reset", "--yes")
    ws.check(s0, "migrate:reset")
    ws.cli("migrate:fresh", "--yes")
    ws.check(s1, "migrate:fresh")
    ws.cli("make:migration", "--check")


@scenario()
def add_drop_columns_and_tables(ws: Workspace) -> None:
    """add and drop columns, tables and indexes; rows survive; rollback"""
    ws.models(fx.GADGETS)
    ws.cli("make:migration", "--name", "create_gadgets")
    ws.cli("migrate:run")
    seed_gadgets(ws)
    ws.models(fx.GADGETS_ADD_DROP)
    ws.cli("make:migration", "--name", "add_drop")
    ws.cli("migrate:run", "--force", "--yes")
    _, s1, s2 = ws.states()
    ws.check(s2, "adding and dropping")
    equal(ws.rows("SELECT code, name, rank, extra FROM gadgets"), [("g1", "Gizmo", 7, None)], "gadgets rows")
    equal(ws.rows("SELECT label, level FROM widgets"), [("w1", 1)], "widgets rows")
    ws.insert("parts", {"label": "p1"})
    ws.cli("migrate:rollback", "--force", "--yes")
    ws.check(s1, "migrate:rollback")
    equal(ws.rows("SELECT code, name, obsolete FROM gadgets"), [("g1", "Gizmo", None)], "gadgets rows after rollback")
    equal(ws.rows("SELECT label FROM widgets"), [("w1",)], "widgets rows after rollback")
    equal(ws.rows("SELECT COUNT(*) FROM scraps")[0][0], 0, "scraps rows (dropped, then made again)")


@scenario("add_not_null_column_to_indexed_table")
def add_not_null_columns(ws: Workspace) -> None:
    """add NOT NULL columns with defaults to tables that have rows, a primary key and indexes"""
    ws.models(fx.GADGETS)
    ws.cli("make:migration", "--name", "create_gadgets")
    ws.cli("migrate:run")
    seed_gadgets(ws)
    ws.models(fx.GADGETS_NOT_NULL)
    ws.cli("make:migration", "--name", "add_not_null")
    ws.cli("migrate:run")
    _, s1, s2 = ws.states()
    ws.check(s2, "adding NOT NULL columns")
    equal(ws.rows("SELECT code, rank FROM gadgets"), [("g1", 7)], "gadgets rows")
    equal(ws.rows("SELECT label, level FROM widgets"), [("w1", 1)], "widgets rows")
    ws.cli("migrate:rollback", "--force", "--yes")
    ws.check(s1, "migrate:rollback")


@scenario("rename_table", "rename_column")
def rename_columns_and_tables(ws: Workspace) -> None:
    """rename a table and a column; rows survive; rollback"""
    ws.models(fx.GADGETS)
    ws.cli("make:migration", "--name", "create_gadgets")
    ws.cli("migrate:run")
    seed_gadgets(ws)
    ws.models(fx.GADGETS_RENAMED)
    out = ws.cli("make:migration", "--check", expect=1)
    if "rename gadgets to devices" not in out or "rename name to title" not in out:
        raise AssertionError(f"a declared rename was not made a rename: {out.strip()}")
    ws.cli("make:migration", "--name", "rename")
    ws.cli("migrate:run")
    _, s1, s2 = ws.states()
    ws.check(s2, "renaming")
    equal(ws.rows("SELECT code, title FROM devices"), [("g1", "Gizmo")], "devices rows")
    ws.cli("migrate:rollback")
    ws.check(s1, "migrate:rollback")
    equal(ws.rows("SELECT code, name FROM gadgets"), [("g1", "Gizmo")], "gadgets rows after rollback")


@scenario("alter_column", "alter_column_type")
def alter_columns(ws: Workspace) -> None:
    """alter type, length, precision, nullability, default, enum values, comment; rows survive"""
    ws.models(fx.GADGETS)
    ws.cli("make:migration", "--name", "create_gadgets")
    ws.cli("migrate:run")
    seed_gadgets(ws)
    ws.models(fx.GADGETS_ALTERED)
    ws.cli("make:migration", "--name", "alter")
    ws.cli("migrate:run")
    _, s1, s2 = ws.states()
    ws.check(s2, "altering")
    equal(ws.rows("SELECT code, legacy_code, kind, notes FROM gadgets"), [("g1", 42, "a", "n")], "rows")
    ws.cli("migrate:rollback")
    ws.check(s1, "migrate:rollback")
    equal(ws.rows("SELECT code, legacy_code, size FROM gadgets"), [("g1", "42", 3)], "rows after rollback")


@scenario("foreign_keys", "check_constraints", "add_constraint_to_existing_table")
def constraints_on_existing_tables(ws: Workspace) -> None:
    """add a foreign key and a check to existing tables, and drop them again"""
    ws.models(fx.GADGETS)
    ws.cli("make:migration", "--name", "create_gadgets")
    ws.cli("migrate:run")
    seed_gadgets(ws)
    ws.models(fx.GADGETS_CONSTRAINED)
    ws.cli("make:migration", "--name", "constrain")
    ws.cli("migrate:run")
    _, s1, s2 = ws.states()
    ws.check(s2, "adding constraints")
    equal(ws.rows("SELECT code, price FROM gadgets")[0][0], "g1", "gadgets rows")
    ws.cli("migrate:rollback")
    ws.check(s1, "migrate:rollback")
    equal(ws.rows("SELECT label FROM widgets"), [("w1",)], "widgets rows after rollback")


@scenario(
    "rename_table",
    "rename_column",
    "alter_column",
    "alter_column_type",
    "add_constraint_to_existing_table",
    "alter_referenced_table",
    "alter_constrained_column",
)
def full_chain(ws: Workspace) -> None:
    """the fixture schema reworked at once (renames, alterations, FKs, checks); rollback, run, reset, fresh"""
    ws.models(fx.V1)
    ws.cli("make:migration", "--name", "create_blog")
    ws.cli("migrate:run")
    s0, s1 = ws.states()
    ws.check(s1, "migrate:run")
    seed_blog(ws)
    ws.models(fx.V2)
    ws.cli("make:migration", "--name", "rework_blog")
    s2 = ws.states()[2]
    if "writers" not in s2.tables or "authors" in s2.tables:
        raise AssertionError("the table rename was not made")
    ws.cli("migrate:run", "--force", "--yes")
    ws.check(s2, "the rework")
    # rows survived the rename and the alterations; the string code became an integer
    equal(ws.rows("SELECT email, legacy_code, role FROM writers"), [("ann@example.com", 42, "viewer")], "writers")
    equal(ws.rows("SELECT title, content, status FROM posts"), [("First post", "Body text", "draft")], "posts")
    ws.cli("migrate:rollback", "--force", "--yes")
    ws.check(s1, "migrate:rollback")
    equal(ws.rows("SELECT email, legacy_code FROM authors"), [("ann@example.com", "42")], "authors after rollback")
    equal(ws.rows("SELECT title, body FROM posts"), [("First post", "Body text")], "posts after rollback")
    ws.cli("migrate:run", "--force", "--yes")
    ws.check(s2, "migrate:run again")
    status = json.loads(ws.cli("migrate:status", "--json"))["connections"][0]["migrations"]
    equal([m["status"] for m in status], ["applied", "applied"], "status")
    ws.cli("migrate:reset", "--yes")
    ws.check(s0, "migrate:reset")
    ws.cli("migrate:fresh", "--yes")
    ws.check(s2, "migrate:fresh")


# ---------------------------------------------------------------- running


@scenario("transactional_ddl")
def failing_migration_leaves_nothing(ws: Workspace) -> None:
    """a migration that fails halfway leaves no table and no ledger row behind"""
    ws.models(fx.GADGETS)
    ws.cli("make:migration", "--name", "create_gadgets")
    ws.cli("migrate:run")
    ws.models(fx.GADGETS, fx.EXTRA_TABLE)
    ws.cli("make:migration", "--name", "add_notes")
    last = ws.migration_files()[-1]
    with last.open("a", encoding="utf-8") as f:  # its table is made, then a statement fails
        f.write('\nup = [*up, op.RunSQL("INSERT INTO modelmig_conformance_missing (x) VALUES (1)")]\n')
    ws.cli("migrate:run", expect=None)
    _, s1, _ = ws.states()
    ws.check(s1, "the failed migration")
    equal(ws.ledger_ids(), [ws.migration_files()[0].stem], "ledger ids")
    status = json.loads(ws.cli("migrate:status", "--json"))["connections"][0]["migrations"]
    equal([m["status"] for m in status], ["applied", "pending"], "status")


@scenario()
def two_runners_apply_once(ws: Workspace) -> None:
    """two runners started together apply each migration exactly once"""
    from ..commands import open_project, run

    ws.models(fx.GADGETS)
    ws.cli("make:migration", "--name", "create_gadgets")
    ws.models(fx.GADGETS, fx.EXTRA_TABLE)
    ws.cli("make:migration", "--name", "add_notes")
    project = open_project(ws.config)
    start = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def runner() -> None:
        try:
            start.wait()
            counts.extend(r.count for r in run(project))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise AssertionError(f"a runner failed: {type(errors[0]).__name__}: {errors[0]}")
    # each migration once in all (one runner may do both, or each one of them)
    equal((len(counts), sum(counts)), (2, 2), "runners that finished, and the migrations they applied together")
    equal(ws.ledger_ids(), [f.stem for f in ws.migration_files()], "ledger ids")
    ws.check(ws.states()[-1], "both runners")


@scenario("backup")
def backup_holds_every_table(ws: Workspace) -> None:
    """a backup holds every table, with the rows the live database has"""
    ws.models(fx.V1)
    ws.cli("make:migration", "--name", "create_blog")
    ws.cli("migrate:run")
    seed_blog(ws)
    with tempfile.TemporaryDirectory(prefix="modelmig-check-backup-") as folder, ws.session() as session:
        backup = ws.driver.backup(session, Path(folder), "conformance")
        live = session.row_counts()
    if not live.get("authors") or not live.get("posts"):
        raise AssertionError(f"the live counts miss the seeded rows: {live}")

    def by_name(counts: dict[Any, int]) -> dict[str, int]:  # (schema, table) keys: one schema here
        return {k if isinstance(k, str) else k[1]: n for k, n in counts.items()}

    equal(by_name(backup.rows), live, "rows per table in the backup")
    if backup.live is not None:
        equal(by_name(backup.live), live, "rows per table counted in the backup's snapshot")


@scenario()
def pretend_equals_run(ws: Workspace) -> None:
    """--pretend prints exactly the statements that run performs, up and down"""
    from ..commands import open_project
    from ..run.runner import Runner

    def compare(direction: str, command: str) -> None:
        project = open_project(ws.config)
        target = project.targets()[0]
        with Runner(project.config, project.registry, target, lambda line: None) as runner:
            history = runner.history()
            if direction == "up":
                ids = [f.id for f in runner.pending()[0]]
            else:
                rows = sorted(runner.ledger(), key=lambda r: (r.batch, r.id), reverse=True)
                ids = [r.id for r in rows if r.batch == rows[0].batch]
            pretended = [text for mid in ids for text in runner.plan(history.migration(mid), direction)]
        performed: list[str] = []
        driver_class = type(target.driver)  # each command loads its own driver object: spy on the class
        connect = driver_class.connect

        def spying_connect(driver: Any, url: str) -> Any:
            session = connect(driver, url)
            perform = session.perform

            def spy(statement: Any) -> None:
                performed.append(statement.text)
                perform(statement)

            session.perform = spy
            return session

        driver_class.connect = spying_connect  # type: ignore[method-assign]
        try:
            ws.cli(command)
        finally:
            driver_class.connect = connect  # type: ignore[method-assign]
        if not pretended:
            raise AssertionError(f"{command}: --pretend planned no statement")
        equal(performed, pretended, f"{command}: statements performed vs --pretend")

    ws.models(fx.GADGETS)
    ws.cli("make:migration", "--name", "create_gadgets")
    compare("up", "migrate:run")
    ws.models(fx.GADGETS, fx.EXTRA_TABLE)
    ws.cli("make:migration", "--name", "add_notes")
    compare("up", "migrate:run")
    compare("down", "migrate:rollback")


PROBE = textwrap.dedent(
    """
    import json, sys
    import modelmig_core.history.migrations as migrations, modelmig_core.history.replay as history
    import modelmig_core.registry as registry
    registry._DRIVERS_ONLY = 1  # the driver under test alone, as in the kit's own process
    loaded = []
    real_load = migrations.load
    def spy(f):
        loaded.append(f.id)
        return real_load(f)
    migrations.load = history.load = spy
    from modelmig_core.cli import cli
    try:
        cli(sys.argv[1:], prog_name="modelmig")
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    mods = sorted(m for m in sys.modules if m.split(".")[0] == "sqlalchemy")
    sys.stderr.write("PROBE " + json.dumps({"code": code, "sqlalchemy": mods, "loaded": loaded}) + "\\n")
    """
)


@scenario()
def nothing_pending_imports_no_sqlalchemy(ws: Workspace) -> None:
    """migrate:run and migrate:status with nothing pending import no SQLAlchemy, no migration"""
    ws.models(fx.GADGETS)
    ws.cli("make:migration", "--name", "create_gadgets")
    ws.cli("migrate:run")
    for command in ("migrate:run", "migrate:status"):
        result = subprocess.run(
            [sys.executable, "-c", PROBE, "--config", str(ws.config), command],
            cwd=ws.root,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},  # a driver given as plugin
        )
        line = next((x for x in result.stderr.splitlines() if x.startswith("PROBE ")), None)
        if line is None:
            raise AssertionError(f"{command}: the probe did not report: {result.stderr.strip()[-300:]}")
        seen = json.loads(line[len("PROBE ") :])
        equal(seen["code"], 0, f"{command} exit code")
        equal(seen["sqlalchemy"][:3], [], f"{command}: SQLAlchemy modules imported")
        equal(seen["loaded"], [], f"{command}: migration modules imported")


def declared_tables_problems(driver: Any) -> list[str]:
    """What a SQL driver declares of its renderer (``type_names``, ``operation_names``:
    make reads them instead of importing the renderer) and the renderer lacks."""
    import importlib
    import inspect
    import pkgutil

    from ..schema import operations as package
    from ..schema.operations import Operation

    module, _, name = str(getattr(driver, "renderer_class", "")).partition(":")
    if not module:
        return []
    renderer = getattr(importlib.import_module(module), name)
    out = []
    types = getattr(driver, "type_names", None)
    if types is not None:
        out += [f"type_names has {t!r}: {name}.types has none" for t in sorted(set(types) - set(renderer.types))]
        out += [f"type_names lacks {t!r}, which {name}.types has" for t in sorted(set(renderer.types) - set(types))]
    declared = getattr(driver, "operation_names", None)
    if declared is not None:
        core: dict[str, type] = {}
        for info in pkgutil.iter_modules(package.__path__):
            loaded = importlib.import_module(f"{package.__name__}.{info.name}")
            for value in vars(loaded).values():
                if inspect.isclass(value) and issubclass(value, Operation) and value.__module__ == loaded.__name__:
                    core[value.__qualname__] = value
        for op in sorted(declared):
            if op not in core:
                out.append(f"operation_names has {op!r}, which is not an operation of modelmig_core")
            elif not renderer.implements(core[op]):
                out.append(f"operation_names has {op!r}, which {name} does not implement")
    if types is not None and getattr(driver, "dialect", None) != renderer.dialect_name:
        out.append(f"the driver's dialect {driver.dialect!r} is not {name}.dialect_name {renderer.dialect_name!r}")
    return out


@scenario()
def declared_tables_match_the_renderer(ws: Workspace) -> None:
    """what the driver declares of its renderer (type_names, operation_names) is what the renderer has"""
    problems = declared_tables_problems(ws.driver)
    if problems:
        raise AssertionError("; ".join(problems))


# ---------------------------------------------------------------- behaviour, with rows
#
# What the schema comparison cannot see: the database does what the driver
# promises with rows in it. Each probe starts from the probes' tables.


def _probes(ws: Workspace) -> None:
    ws.models(fx.PROBES)
    ws.cli("make:migration", "--name", "create_probes")
    ws.cli("migrate:run")


def _refused(ws: Workspace, table: str, values: dict[str, Any], control: dict[str, Any]) -> str | None:
    """None when the database refused the row ``values`` and then took the row
    ``control``, which differs only in what is probed (so the refusal was of that,
    not of anything else); else what happened, in words."""
    try:
        ws.insert(table, values)
    except Exception:  # noqa: BLE001 - the refusal is the expected outcome
        try:
            ws.insert(table, control)
        except Exception as exc:  # noqa: BLE001 - said in the failure
            detail = " ".join(str(exc).split())[:200]
            raise AssertionError(
                f"{table} refused {values!r}, and then {control!r} too ({type(exc).__name__}: {detail}): "
                "the refusal proves nothing"
            ) from None
        return None
    return f"{table} took {values!r}"


@scenario("increments")
def increments_number_rows(ws: Workspace) -> None:
    """auto-increment keys number rows inserted without a key 1, 2, 3"""
    _probes(ws)
    for code in ("a", "b", "c"):
        ws.insert("probes", {"code": code, "label": code})
    ids = [r[0] for r in ws.rows("SELECT id FROM probes ORDER BY code")]
    if not (len(set(ids)) == 3 and all(isinstance(i, int) and i > 0 for i in ids) and ids == sorted(ids)):
        raise AssertionError(f"increments numbered three new rows {ids}, expected three increasing numbers from 1")


@scenario()
def not_null_enforced(ws: Workspace) -> None:
    """a NOT NULL column refuses a row without a value"""
    _probes(ws)
    took = _refused(ws, "probes", {"code": "a", "label": None}, {"code": "a", "label": "a"})
    if took:
        raise AssertionError(f"NOT NULL not enforced: {took} (probes.label is NOT NULL)")


@scenario("enforces_length", note="not enforced by this database")
def length_enforced(ws: Workspace) -> None:
    """a string(10) column refuses an 11-character value (never cuts it)"""
    _probes(ws)
    took = _refused(ws, "probes", {"code": "a", "label": "x" * 11}, {"code": "a", "label": "x" * 10})
    if took:
        stored = ws.rows("SELECT label FROM probes")
        raise AssertionError(f"length not enforced: {took} (probes.label is string(10)); it holds {stored!r}")


@scenario("unique_constraints")
def unique_enforced(ws: Workspace) -> None:
    """a unique key refuses a second row with the same value"""
    _probes(ws)
    ws.insert("probes", {"code": "same", "label": "one"})
    took = _refused(ws, "probes", {"code": "same", "label": "two"}, {"code": "other", "label": "two"})
    if took:
        raise AssertionError(f"unique key not enforced: {took} while a row has code 'same' (probes.code is unique)")


@scenario("foreign_keys")
def foreign_keys_enforced(ws: Workspace) -> None:
    """a foreign key refuses a row that points at no row"""
    _probes(ws)
    ws.insert("probes", {"code": "a", "label": "a"})
    (parent,) = ws.rows("SELECT id FROM probes")[0]
    took = _refused(ws, "probe_children", {"probe_id": 999}, {"probe_id": int(parent)})
    if took:
        raise AssertionError(f"foreign key not enforced: {took} while probes has no row 999")


@scenario()
def defaults_fill(ws: Workspace) -> None:
    """a row inserted without the columns that have defaults gets the defaults"""
    _probes(ws)
    ws.insert("probes", {"code": "a", "label": "a"})
    (row,) = ws.rows("SELECT qty, kind, flag FROM probes")
    got = (row[0], row[1], bool(row[2]) if row[2] in (0, 1, True, False) else row[2])
    equal(got, (7, "plain", False), "qty, kind, flag of a row inserted without them (defaults 7, 'plain', False)")


@scenario("alter_column", "alter_column_type")
def narrowing_keeps_values(ws: Workspace) -> None:
    """integer -> smallInteger with 70000 in a row: refused, or the value kept; never rewritten"""
    _probes(ws)
    ws.insert("probes", {"code": "big", "label": "big", "amount": 70000})
    ws.models(fx.PROBES_NARROWED)
    made, _ = ws.cli_code("make:migration", "--name", "narrow_amount")  # may refuse: nothing written
    if made == 0:
        ws.cli_code("migrate:run", "--force", "--yes")  # may fail: the value must survive either way
    equal(ws.rows("SELECT amount FROM probes"), [(70000,)], "probes.amount after narrowing it to smallInteger")


@scenario(unless=("transactional_ddl",), note="for drivers without transactional DDL")
def interrupted_migration_is_reported(ws: Workspace) -> None:
    """DDL that auto-commits: a failing migration is left "interrupted", named by status, settled by resolve"""
    ws.models(fx.GADGETS)
    ws.cli("make:migration", "--name", "create_gadgets")
    ws.cli("migrate:run")
    ws.models(fx.GADGETS, fx.EXTRA_TABLE)
    ws.cli("make:migration", "--name", "add_notes")
    first, last = ws.migration_files()
    with last.open("a", encoding="utf-8") as f:  # its table is made (and committed), then a statement fails
        f.write('\nup = [*up, op.RunSQL("INSERT INTO modelmig_conformance_missing (x) VALUES (1)")]\n')
    ws.cli("migrate:run", expect=None)
    equal(ws.ledger_ids(), [first.stem, last.stem], "ledger ids after the failure (the interrupted one kept)")

    def statuses() -> list[str]:
        return [m["status"] for m in json.loads(ws.cli("migrate:status", "--json"))["connections"][0]["migrations"]]

    equal(statuses(), ["applied", "interrupted"], "status after the failure")
    again = ws.cli("migrate:run", expect=None)
    if last.stem not in again:
        raise AssertionError(f"migrate:run after the interruption did not name {last.stem}: {again.strip()}")
    ws.execute("DROP TABLE notes")  # the user undoes what ran, then says so
    ws.cli("migrate:resolve", last.stem, "--rolled-back")
    equal(statuses(), ["applied", "pending"], "status after migrate:resolve --rolled-back")
    _, s1, _ = ws.states()
    ws.check(s1, "migrate:resolve")
