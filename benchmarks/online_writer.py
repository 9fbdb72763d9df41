"""A busy table migrated two ways: the writer's longest wait under the default
plan and under the online plan (``online = true``) on PostgreSQL.

    python benchmarks/online_writer.py [--rows 200000] [--repeat 3] [--writer-timeout 200ms]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres]
    nox -s bench -- benchmarks/online_writer.py

A table ``items`` of ``--rows`` rows gets six common changes in one migration
(an index, a unique constraint, a foreign key, a check, SET NOT NULL, a column
with a default: the issue's seven but the type change, which has no online
form) while a writer updates single rows in a loop, each in its own transaction
with ``lock_timeout`` = ``--writer-timeout``. ``modelmig migrate:run`` runs as a
whole process, as a user runs it. Printed per plan: the writer's longest wait
for one update, how many of its updates timed out, how many it made, and how
long the migration took (medians over ``--repeat`` runs, each on a database of
its own). Needs psycopg and a PostgreSQL server.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg

MODELMIG = shutil.which("modelmig", path=str(Path(sys.executable).parent)) or "modelmig"
PG = os.environ.get("MODELMIG_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

BEFORE = """from modelmig_core import Model, column, index, foreign_key, check


class Owner(Model):
    table = "owners"
    schema = {"id": column("increments"), "name": column("string", 50)}


class Item(Model):
    table = "items"
    schema = {
        "id": column("increments"),
        "owner_id": column("integer"),
        "code": column("string", 20),
        "note": column("string", 100, nullable=True),
        "price": column("integer"),
    }
"""

AFTER = BEFORE.replace('"code": column("string", 20),', '"code": column("string", 20, unique=True),').replace(
    '"note": column("string", 100, nullable=True),\n        "price": column("integer"),\n    }',
    '"note": column("string", 100),\n        "price": column("integer"),\n'
    '        "flag": column("boolean", default=False),\n    }\n'
    "    database = {\n"
    '        "indexes": [index(["note"], name="ix_items_note")],\n'
    '        "foreign_keys": [foreign_key("owner_id", "owners", "id", name="fk_items_owner")],\n'
    '        "checks": [check("price >= 0", name="ck_items_price")],\n'
    "    }",
)


def with_database(url: str, name: str) -> str:
    head, _, _ = url.rpartition("/")
    return f"{head}/{name}"


class Writer(threading.Thread):
    def __init__(self, url: str, rows: int, timeout: str) -> None:
        super().__init__(daemon=True)
        self.url, self.rows, self.timeout = url, rows, timeout
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.longest = 0.0
        self.timeouts = 0
        self.updates = 0

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SELECT set_config('lock_timeout', %s, false)", (self.timeout,))
            i = 0
            while not self.stop.is_set():
                i = (i * 7919 + 13) % self.rows
                started = time.perf_counter()
                try:
                    conn.execute("UPDATE items SET price = price + 1 WHERE id = %s", (i + 1,))
                    self.updates += 1
                except psycopg.errors.LockNotAvailable:
                    self.timeouts += 1
                self.longest = max(self.longest, time.perf_counter() - started)
                self.ready.set()


def modelmig(root: Path, *args: str) -> None:
    env = {**os.environ, "MODELMIG_NOW": "2026-01-01T00:00:00"}
    subprocess.run([MODELMIG, *args], cwd=root, env=env, check=True, capture_output=True, text=True)


def one_run(admin: str, rows: int, online: bool, writer_timeout: str) -> dict[str, float]:
    name = f"mm_bench_online_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(admin, name)
    root = Path(tempfile.mkdtemp(prefix="mm_online_"))
    try:
        (root / "pyproject.toml").write_text(
            '[tool.modelmig]\nmodels = ["models"]\nmigrations = "migrations"\n'
            f"[tool.modelmig.connections.main]\nurl = {json.dumps(url)}\nonline = {'true' if online else 'false'}\n"
        )
        (root / "models.py").write_text(BEFORE)
        modelmig(root, "make:migration", "--name", "start")
        modelmig(root, "migrate:run")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO owners (id, name) VALUES (1, 'one'), (2, 'two')")
            conn.execute(
                "INSERT INTO items (id, owner_id, code, note, price) SELECT i, 1 + i %% 2, 'c' || i, "
                "'note ' || md5(i::text), i FROM generate_series(1, %s) AS i",
                (rows,),
            )
            conn.execute("ANALYZE items")
        (root / "models.py").write_text(AFTER)
        env = {**os.environ, "MODELMIG_NOW": "2026-01-02T00:00:00"}
        subprocess.run(
            [MODELMIG, "make:migration", "--name", "busy"], cwd=root, env=env, check=True, capture_output=True
        )
        writer = Writer(url, rows, writer_timeout)
        writer.start()
        writer.ready.wait(10)
        started = time.perf_counter()
        modelmig(root, "migrate:run")
        took = time.perf_counter() - started
        time.sleep(0.2)
        writer.stop.set()
        writer.join(10)
        return {
            "longest_ms": writer.longest * 1000,
            "timeouts": writer.timeouts,
            "updates": writer.updates,
            "migration_ms": took * 1000,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--writer-timeout", default="200ms")
    parser.add_argument("--pg", default=PG)
    args = parser.parse_args()
    print(f"items: {args.rows:,} rows; writer: single-row updates, lock_timeout = {args.writer_timeout}")
    print(f"{'plan':<8} {'longest wait':>13} {'timeouts':>9} {'updates':>8} {'migration':>10}")
    for online in (False, True):
        runs = [one_run(args.pg, args.rows, online, args.writer_timeout) for _ in range(args.repeat)]
        median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"{'online' if online else 'default':<8} {median['longest_ms']:>10.0f} ms {median['timeouts']:>9.0f} "
            f"{median['updates']:>8.0f} {median['migration_ms']:>7.0f} ms"
        )


if __name__ == "__main__":
    main()
