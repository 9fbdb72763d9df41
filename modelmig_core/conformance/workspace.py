"""A scratch app for the conformance scenarios: a temporary folder with a config,
a models module and migrations, on the database under test, driven through the
real ``modelmig`` command line (in-process) and the Python API."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..driver import LEDGER, Driver
from ..history.replay import replay
from ..schema.state import State
from . import fixtures, oracle
from .compare import differences, leftover_types

#: make:migration's clock for the scenarios' migrations (each next one is a second later)
NOW = "2026-01-01T00:00:00"
#: what the scenarios run with, whatever the caller's shell says
ENV: dict[str, str | None] = {
    "MODELMIG_NOW": NOW,
    "APP_ENV": None,
    "MODELMIG_BACKUP": None,
    "MODELMIG_SKIP_BACKUP": None,
    "MODELMIG_DEBUG": None,
}


def installed_command() -> Any:
    """The ``modelmig`` command as installed: the click command of the module its
    console script names. The kit drives the command line from the outside, as a
    user's shell does (it sits below the CLI in the layers: the CLI's
    ``drivers:check`` runs it), so it finds the command by its published name."""
    global _COMMAND
    if _COMMAND is None:
        from importlib.metadata import entry_points

        found = entry_points(group="console_scripts", name="modelmig")
        if not found:
            raise RuntimeError("the modelmig command is not installed (no console script named modelmig)")
        script = next(iter(found))
        _COMMAND = importlib.import_module(script.module).cli
    return _COMMAND


_COMMAND: Any = None


class Workspace:
    def __init__(self, url: str, driver: Driver, plugin: str | None = None) -> None:
        self.url = url
        self.driver = driver
        self.plugin = plugin  # "module:object": a driver that is not installed, given in the config
        self.root = Path(tempfile.mkdtemp(prefix="modelmig-check-"))
        self.config = self.root / "pyproject.toml"
        self._tag = uuid.uuid4().hex[:8]
        self._version = 0
        self.module = ""

    # ------------------------------------------------------------ the app

    def models(self, *sources: str) -> None:
        """Write the models (each time a module of a new name: no stale import) and the config."""
        self._version += 1
        self.module = f"conformance_models_{self._tag}_{self._version}"
        comments = getattr(self.driver, "column_comments", True)  # only SQL drivers declare the flag
        source = fixtures.adapted("\n".join(sources), self.driver.features, comments)
        (self.root / f"{self.module}.py").write_text(source, encoding="utf-8")
        plugin = f"plugins = [{json.dumps(self.plugin)}]\n" if self.plugin else ""
        driver = f"driver = {json.dumps(self.driver.name)}\n" if self.plugin else ""
        self.config.write_text(
            "[tool.modelmig]\n"
            f"models = [{json.dumps(self.module)}]\n"
            'migrations = "migrations"\n'
            f"lock_timeout = 30\n{plugin}"
            "[tool.modelmig.connections.main]\n"
            f"url = {json.dumps(self.url)}\n{driver}",
            encoding="utf-8",
        )

    def cli_code(self, *args: str) -> tuple[int, str]:
        """``modelmig ARGS`` in-process, whatever it exits: (exit code, output)."""
        from click.testing import CliRunner

        cwd = os.getcwd()
        try:
            result = CliRunner().invoke(
                installed_command(), ["--config", str(self.config), *args], env=ENV, catch_exceptions=True
            )
        finally:
            os.chdir(cwd)
        return result.exit_code, result.output

    def cli(self, *args: str, expect: int | None = 0) -> str:
        """``modelmig ARGS`` in-process; its output. Fails unless it exits ``expect``
        (any non-zero exit when ``expect`` is None)."""
        code, output = self.cli_code(*args)
        if (expect is None and code == 0) or (expect is not None and code != expect):
            want = "a failure" if expect is None else f"exit {expect}"
            raise AssertionError(f"modelmig {' '.join(args)} exited {code}, expected {want}: {output.strip()}")
        return output

    def migration_files(self) -> list[Path]:
        return sorted((self.root / "migrations" / "sql").glob("*.py"))

    def states(self) -> list[State]:
        """The states the SQL chain adds up to: [empty, after the 1st, after the 2nd, ...]."""
        return replay(self.root / "migrations", "sql").states

    # ------------------------------------------------------------ the database

    def connect(self) -> Any:
        """A session of the kit's own on the database under test, opened from the
        scratch app's folder as the app's commands open it (``app.py`` runs them
        there): a relative file URL names the same file for both."""
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            return self.driver.connect(self.url)
        finally:
            os.chdir(cwd)

    @contextmanager
    def session(self) -> Iterator[Any]:
        session = self.connect()
        try:
            yield session
        finally:
            session.close()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.session() as s:
            return [tuple(r) for r in s.execute(sql, params) or []]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.execute(sql)

    def insert(self, table: str, values: dict[str, Any]) -> None:
        """One row, its values bound as parameters. A driver without auto-increment
        keys (``increments=False``: the fixtures' keys are plain integers then) gets
        the next ``id`` from the kit."""
        with self.session() as s:
            if not self.driver.features.increments and "id" not in values:
                found = s.execute(f"SELECT MAX({s.quote('id')}) FROM {s.quote(table)}") or [(None,)]
                values = {"id": int(found[0][0] or 0) + 1, **values}
            names = ", ".join(s.quote(k) for k in values)
            marks = ", ".join(s.param for _ in values)
            s.execute(f"INSERT INTO {s.quote(table)} ({names}) VALUES ({marks})", list(values.values()))

    def ledger_ids(self) -> list[str]:
        return [r[0] for r in self.execute(f"SELECT id FROM {LEDGER} ORDER BY id")]

    def check(self, state: State, what: str) -> None:
        """The live schema equals ``state``: read by the kit itself through
        SQLAlchemy's Inspector (``oracle.py``: tables, columns, their types by
        affinity, NOT NULL, keys, indexes and named checks; not the driver's
        reflection, which could agree with its own lies),
        then what ``migrate:status --drift`` says through the driver's ``reflect``
        (types, defaults, checks: a difference there fails too, it never excuses
        one), and no enum type outlives its column."""
        own = self.connect()  # its own: SQLAlchemy closes a connection that failed
        try:
            seen = oracle.inspect(self.driver, own)
        finally:
            with contextlib.suppress(Exception):  # closed already
                own.close()
        checks = bool(getattr(self.driver.features, "check_constraints", False))
        problems = [] if seen.unavailable else oracle.compare(oracle.expected(state, checks), seen.tables)
        with self.session() as s:
            if not problems:
                problems = [f"drift: {line}" for line in differences(self.driver, s, state)]
            problems += leftover_types(s, state)
        if problems:
            raise AssertionError(f"after {what}: " + "; ".join(problems))

    def close(self) -> None:
        """Drop what the scenario made (the database was empty before it) and the folder."""
        try:
            with self.session() as s:
                self.driver.wipe(s)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
