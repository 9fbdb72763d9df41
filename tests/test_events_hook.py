"""The ``on_event`` hook: an installed plugin receives every event a command
reports, exactly as a callable added with ``commands.subscribe`` does. The plugin
is written as a third party would, on ``modelmig_core.api`` only; it writes each
event it receives to a file in the project, so the command line (in-process) and
the installed command (a subprocess) are checked alike."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from modelmig_core import api

MODELS = """
class Tenant(Model):
    table = "tenants"
    schema = {"id": column("increments"), "name": column("string", 100)}
"""

MORE_MODELS = """
class Invoice(Model):
    table = "invoices"
    schema = {"id": column("increments"), "total": column("integer")}
"""

#: the plugin: one JSON line per event, with its type and every field (the
#: exception of a failure is no field: it has ``repr=False``, ``compare=False``)
PLUGIN = """
import dataclasses
import json
import threading

from modelmig_core.api import hookimpl

LOCK = threading.Lock()


@hookimpl
def on_event(event):
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event) if f.repr}
    with LOCK, open("events.jsonl", "a", encoding="utf-8") as out:
        out.write(json.dumps({"type": type(event).__name__, **fields}) + "\\n")
"""


def as_record(event: Any) -> dict[str, Any]:
    import dataclasses

    return {
        "type": type(event).__name__,
        **{f.name: getattr(event, f.name) for f in dataclasses.fields(event) if f.repr},
    }


def received(root: Path) -> list[dict[str, Any]]:
    path = root / "events.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def with_plugin(make_project: Any, connections: int = 1) -> Any:
    name = f"events_{uuid.uuid4().hex[:12]}"  # one module per test: plugins are imported once per process
    conns = {f"t{i}": {"url": f"sqlite:///tenant{i}.sqlite3"} for i in range(connections)}
    p = make_project(conns, extra_config=f'default = "t0"\nplugins = ["{name}"]')
    (p.root / f"{name}.py").write_text(PLUGIN, encoding="utf-8")
    p.models(MODELS)
    p.ok("make:migration")
    return p


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        with self.lock:
            self.events.append(event)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_plugin_receives_exactly_what_a_subscriber_receives(make_project: Any, jobs: int) -> None:
    p = with_plugin(make_project, connections=2)
    mid = p.migration_files()[0].stem
    seen = Recorder()
    unsubscribe = api.subscribe(seen)
    try:
        project = api.open_project(p.root / "pyproject.toml")
        results = api.run(project, all_connections=True, jobs=jobs)
        api.rollback(project, all_connections=True, jobs=jobs, yes=True)
    finally:
        unsubscribe()
    assert [(r.connection, r.count) for r in results] == [("t0", 1), ("t1", 1)]
    got = received(p.root)
    expected = [as_record(e) for e in seen.events]
    if jobs == 1:
        assert got == expected  # the same events, in the order they were reported
    else:  # two threads: each connection's events in its order, interleaved as they came
        assert sorted(map(json.dumps, got)) == sorted(map(json.dumps, expected))
        for name in ("t0", "t1"):
            assert [e for e in got if e["connection"] == name] == [e for e in expected if e["connection"] == name]
    for name in ("t0", "t1"):
        mine = [(e["type"], e.get("migration"), e.get("direction")) for e in got if e["connection"] == name]
        assert mine == [
            ("ConnectionStarted", None, None),
            ("MigrationStarted", mid, "up"),
            ("MigrationApplied", mid, "up"),
            ("ConnectionFinished", None, None),
            ("ConnectionStarted", None, None),
            ("Warned", None, None),  # the rollback drops the table and its rows
            ("MigrationStarted", mid, "down"),
            ("MigrationApplied", mid, "down"),
            ("ConnectionFinished", None, None),
        ]


def test_the_command_line_forwards_its_events_to_the_plugin(make_project: Any) -> None:
    p = with_plugin(make_project)
    mid = p.migration_files()[0].stem
    out = p.ok("migrate:run").output
    got = received(p.root)
    applied = [e for e in got if e["type"] == "MigrationApplied"]
    assert [(e["connection"], e["migration"], e["direction"]) for e in applied] == [("t0", mid, "up")]
    assert applied[0]["text"] in out  # the line the command printed is the event's
    assert got[-1]["type"] == "ConnectionFinished" and got[-1]["error"] is None

    # nothing pending: the plugin still hears the command (its progress line)
    (p.root / "events.jsonl").unlink()
    p.ok("migrate:run")
    got = received(p.root)
    assert [e["type"] for e in got] == ["ConnectionStarted", "Progress", "ConnectionFinished"]
    assert got[1]["text"] == "t0: nothing to migrate"


def test_a_failing_migration_reaches_the_plugin_with_its_error(make_project: Any) -> None:
    p = with_plugin(make_project)
    p.ok("migrate:run")
    p.models(MODELS + MORE_MODELS)
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    # the table exists already: creating it fails on the server
    import sqlite3

    with sqlite3.connect(p.root / "tenant0.sqlite3") as db:
        db.execute("CREATE TABLE invoices (id integer)")
    (p.root / "events.jsonl").unlink()
    result = p.run("migrate:run")
    assert result.exit_code != 0
    got = received(p.root)
    failures = [e for e in got if e["type"] == "MigrationFailure"]
    assert len(failures) == 1 and "invoices" in failures[0]["error"]
    assert got[-1]["type"] == "ConnectionFinished" and got[-1]["error"]


def test_the_installed_command_forwards_to_a_plugin_in_a_subprocess(make_project: Any) -> None:
    p = with_plugin(make_project)
    result = p.sh("migrate:run")
    assert result.returncode == 0, result.stderr
    got = received(p.root)
    assert [e["type"] for e in got] == [
        "ConnectionStarted",
        "MigrationStarted",
        "MigrationApplied",
        "ConnectionFinished",
    ]


def test_without_plugins_the_nothing_pending_path_loads_no_plugin_manager(make_project: Any) -> None:
    p = make_project()
    p.models(MODELS)
    p.ok("make:migration")
    p.ok("migrate:run")
    code = (
        "import sys\nfrom modelmig_core.cli import cli\n"
        "cli(['migrate:run'], prog_name='modelmig', standalone_mode=False)\n"
        "print('PLUGGY', 'pluggy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=p.root, capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "PLUGGY False"
