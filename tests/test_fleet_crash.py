"""A fleet survives a crash: ``migrate:run --all-connections --jobs N`` keeps a
report of the databases it has finished (``run/fleet.py``), rewritten as each
finishes; killed with SIGKILL midway, the report says how far it got, and a
re-run applies only what each database's ledger lacks: every migration once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

MODELS = """
class Tenant(Model):
    table = "tenants"
    schema = {"id": column("increments"), "name": column("string", 100)}
"""

# each migration takes a while, so that the run can be killed midway
SLOW = """
import time

from modelmig_core.api import hookimpl


@hookimpl(wrapper=True)
def apply(session, migration):
    time.sleep(0.04)
    return (yield)
"""

SEED = '''"""A data migration: one row per database, so a second run of it would show."""

from modelmig_core import operations as op

id = "20990101000000_seed_tenants"
family = "sql"
parent = {parent!r}
atomic = True


def seed(connection):
    connection.execute("INSERT INTO tenants (name) VALUES ('seeded')")


def unseed(connection):
    connection.execute("DELETE FROM tenants WHERE name = 'seeded'")


up = [op.RunPython(seed, unseed, destructive=False)]
down = [op.RunPython(unseed, seed, destructive=False)]
'''

COUNT = 40


def report(root: Path) -> dict[str, Any] | None:
    try:
        return json.loads((root / "migrations" / ".modelmig-cache" / "fleet.json").read_text())
    except (OSError, ValueError):
        return None


def done(root: Path) -> int:
    data = report(root) or {"databases": {}}
    return sum(1 for d in data["databases"].values() if d.get("state") == "done")


def test_a_fleet_killed_midway_is_finished_by_a_rerun_and_each_migration_runs_once(make_project: Any) -> None:
    conns = {f"t{i:02d}": {"url": f"sqlite:///tenant{i:02d}.sqlite3"} for i in range(COUNT)}
    p = make_project(conns, extra_config='default = "t00"\nplugins = ["slow"]')
    (p.root / "slow.py").write_text(SLOW)
    p.models(MODELS)
    p.ok("make:migration")
    [first] = p.migration_files()
    (first.parent / "20990101000000_seed_tenants.py").write_text(SEED.format(parent=first.stem))
    ids = sorted([first.stem, "20990101000000_seed_tenants"])

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(p.root)}
    exe = Path(sys.executable).parent / "modelmig"
    run = [str(exe), "migrate:run", "--all-connections", "--jobs", "2"]
    proc = subprocess.Popen(run, cwd=p.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while done(p.root) < 6 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL  # killed, not finished
    finished_before = done(p.root)
    assert 6 <= finished_before < COUNT

    status = p.sh("migrate:status", "--all-connections", "--json", env={"PYTHONPATH": str(p.root)})
    fleet = json.loads(status.stdout)["fleet"]
    assert fleet["state"] == "interrupted" and fleet["counts"]["done"] == finished_before
    shown = p.sh("migrate:status", "--all-connections", env={"PYTHONPATH": str(p.root)})
    text = shown.stdout + shown.stderr
    assert f"was interrupted: {finished_before} of {COUNT} done" in text

    again = subprocess.run([*run, "--json"], cwd=p.root, env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    document = json.loads(again.stdout)
    assert sorted(c["connection"] for c in document["connections"]) == sorted(conns)
    assert all(c["ok"] for c in document["connections"])
    applied_now = sum(len(c["applied"]) for c in document["connections"])
    for name in conns:
        with sqlite3.connect(p.root / f"tenant{name[1:]}.sqlite3") as db:
            assert [r[0] for r in db.execute("SELECT id FROM modelmig_migrations ORDER BY id")] == ids
            assert db.execute("SELECT count(*) FROM tenants WHERE name = 'seeded'").fetchone()[0] == 1
    # what the killed run had finished was not applied again
    assert applied_now <= 2 * (COUNT - finished_before)
    after = report(p.root)
    assert after is not None and after["finished_at"] and done(p.root) == COUNT
