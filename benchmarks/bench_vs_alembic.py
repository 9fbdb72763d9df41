"""modelmig next to Alembic and the psql floor, on the same schemas, in one run.

    python benchmarks/bench_vs_alembic.py [--tables 100 1000] [--apply-tables 200]
        [--status 1000 10000] [--fleet 16] [--crash-sqlite 200] [--crash-pg 50] [--repeat 5]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Every measure is a whole process, as a user runs it, with bytecode caches on.
The schema: N tables of 20 columns (strings, integers, a timestamp, a boolean),
each with a composite index and a foreign key to the previous table. The same
schema is given to Alembic as SQLAlchemy metadata. Prints the machine, the command
and a Markdown table: measure, modelmig, the peer, the ratio (modelmig / peer), the
issue's target. The fleet crash measure kills (SIGKILL) a fleet run midway and
times the re-run that finishes it, checking every ledger after. Needs alembic and psql
(``nox -s bench`` installs alembic); PostgreSQL measures are skipped without a
server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BIN = Path(sys.executable).parent
MODELMIG = str(BIN / "modelmig")
ALEMBIC = str(BIN / "alembic")
ROWS: list[tuple[str, str, str, str, str]] = []


# ---------------------------------------------------------------- schemas


def modelmig_models(tables: int) -> str:
    lines = ["from modelmig_core import Model, column, foreign_key, index\n"]
    for t in range(tables):
        cols = ['"id": column("increments")']
        cols += [f'"s{c}": column("string", 100, nullable=True)' for c in range(12)]
        cols += [f'"n{c}": column("integer", default=0)' for c in range(5)]
        cols += ['"active": column("boolean", default=True)', '"created_at": column("timestamp")']
        fk = ""
        if t:
            cols.append('"parent_id": column("integer", nullable=True)')
            fk = f', "foreign_keys": [foreign_key("parent_id", "t{t - 1}", "id", on_delete="cascade")]'
        lines.append(
            f"class T{t}(Model):\n    table = 't{t}'\n    schema = {{{', '.join(cols)}}}\n"
            f'    database = {{"indexes": [index(["s0", "n0"])]{fk}}}\n'
        )
    return "\n".join(lines)


def alembic_metadata(tables: int) -> str:
    lines = ["import sqlalchemy as sa", "", "metadata = sa.MetaData()", ""]
    for t in range(tables):
        cols = ["sa.Column('id', sa.Integer, primary_key=True)"]
        cols += [f"sa.Column('s{c}', sa.String(100), nullable=True)" for c in range(12)]
        cols += [f"sa.Column('n{c}', sa.Integer, nullable=False, server_default='0')" for c in range(5)]
        cols += [
            "sa.Column('active', sa.Boolean, nullable=False, server_default=sa.true())",
            "sa.Column('created_at', sa.DateTime, nullable=False, server_default=sa.func.now())",
        ]
        if t:
            cols.append(f"sa.Column('parent_id', sa.Integer, sa.ForeignKey('t{t - 1}.id', ondelete='CASCADE'))")
        cols.append(f"sa.Index('ix_t{t}_s0_n0', 's0', 'n0')")
        lines.append(f"sa.Table('t{t}', metadata, {', '.join(cols)})")
    return "\n".join(lines) + "\n"


def modelmig_project(root: Path, tables: int, url: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        f'[tool.modelmig]\nmodels = ["models"]\n[tool.modelmig.connections.main]\nurl = "{url}"\n'
    )
    (root / "models.py").write_text(modelmig_models(tables))
    return root


def alembic_project(root: Path, tables: int, url: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    run([ALEMBIC, "-q", "init", "alembic"], root)
    ini = (root / "alembic.ini").read_text().replace("driver://user:pass@localhost/dbname", url)
    (root / "alembic.ini").write_text(ini)
    env = (root / "alembic" / "env.py").read_text()
    env = env.replace(
        "target_metadata = None", "import sys; sys.path.insert(0, '.')\nfrom schema import metadata as target_metadata"
    )
    (root / "alembic" / "env.py").write_text(env)
    (root / "schema.py").write_text(alembic_metadata(tables))
    return root


# ---------------------------------------------------------------- measuring


def pretended_sql(output: str) -> str:
    """The SQL of ``migrate:run --pretend`` output: its ``--`` headers and its
    connection's own lines (``main: would apply 1 ...``) left out."""
    lines = [x for x in output.splitlines() if not x.startswith("--") and not x.split(" ", 1)[0].endswith(":")]
    return "\n".join(lines) + "\n"


def run(args: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(list(args), cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed in {cwd}:\n{result.stdout}\n{result.stderr}")
    return elapsed


def median(fn: Callable[[], float], repeat: int) -> float:
    return statistics.median(fn() for _ in range(repeat))


def row(measure: str, ours: float | None, peer: float | None, peer_name: str, target: str = "") -> None:
    fmt = lambda v: "n/a" if v is None else (f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s")  # noqa: E731
    ratio = f"{ours / peer:.2f}" if ours is not None and peer else "n/a"
    ROWS.append((measure, fmt(ours), f"{fmt(peer)} ({peer_name})" if peer_name else fmt(peer), ratio, target))
    print(f"  {measure}: modelmig {fmt(ours)}, {peer_name or 'peer'} {fmt(peer)}, ratio {ratio}", flush=True)


# ---------------------------------------------------------------- PostgreSQL


def pg_admin(url: str) -> object | None:
    try:
        import psycopg

        return psycopg.connect(url, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - the PostgreSQL measures are skipped
        print(f"  (no PostgreSQL at {url}: {exc}; skipping its measures)")
        return None


def pg_db(admin: object, base: str) -> str:
    """A new empty database; a CHECKPOINT after it, so that the writes of CREATE
    DATABASE are not flushed during the measure that follows."""
    name = f"mmbench_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    admin.execute("CHECKPOINT")  # type: ignore[attr-defined]
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def drop_pg_dbs(admin: object) -> None:
    rows = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE 'mmbench_%'").fetchall()  # type: ignore[attr-defined]
    for (name,) in rows:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]


def sa_pg(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


# ---------------------------------------------------------------- the measures


def make_measures(work: Path, tables: int, repeat: int) -> None:
    ours = modelmig_project(work / f"mm{tables}", tables, "sqlite:///app.sqlite3")
    theirs = alembic_project(work / f"al{tables}", tables, "sqlite:///alembic.sqlite3")

    def ours_first() -> float:  # no migration yet (the models' bytecode is cached after the first run, as for alembic)
        shutil.rmtree(ours / "migrations", ignore_errors=True)
        return run([MODELMIG, "make:migration"], ours)

    def theirs_first() -> float:
        for old in (theirs / "alembic" / "versions").glob("*.py"):
            old.unlink()
        return run([ALEMBIC, "revision", "--autogenerate", "-m", "init"], theirs)

    first, peer = median(ours_first, repeat), median(theirs_first, repeat)
    target = "<= 0.05" if tables >= 1000 else ""
    row(f"first make:migration, {tables} tables vs alembic revision --autogenerate", first, peer, "alembic", target)
    run([MODELMIG, "make:migration"], ours)  # the first no-change make replays and caches the head
    nochange = median(lambda: run([MODELMIG, "make:migration"], ours), repeat)
    nochange_uncached = median(lambda: run([MODELMIG, "make:migration"], ours, {"MODELMIG_NO_CACHE": "1"}), repeat)
    target = "<= 0.2 s" if tables >= 1000 else ""
    row(
        f"make:migration with no change, {tables} tables (cached / replayed)",
        nochange,
        nochange_uncached,
        "replayed",
        target,
    )


def apply_measures(work: Path, tables: int, repeat: int, admin: object, base: str) -> None:
    ours = modelmig_project(work / f"apply{tables}", tables, "postgresql://placeholder/x")
    run([MODELMIG, "make:migration"], ours)
    theirs = alembic_project(work / f"alapply{tables}", tables, sa_pg(pg_db(admin, base)))
    run([ALEMBIC, "revision", "--autogenerate", "-m", "init"], theirs)

    def ours_run(env: dict[str, str] | None = None) -> float:
        url = pg_db(admin, base)
        (ours / "pyproject.toml").write_text(
            (ours / "pyproject.toml").read_text().split("url =")[0] + f'url = "{url}"\n'
        )
        return run([MODELMIG, "migrate:run"], ours, env)

    def theirs_run() -> float:
        url = sa_pg(pg_db(admin, base))
        ini = theirs / "alembic.ini"
        lines = [
            f"sqlalchemy.url = {url}" if x.startswith("sqlalchemy.url") else x for x in ini.read_text().splitlines()
        ]
        ini.write_text("\n".join(lines) + "\n")
        return run([ALEMBIC, "upgrade", "head"], theirs)

    sql_file = work / f"apply{tables}.sql"

    def floor() -> float:
        url = pg_db(admin, base)
        return run(["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", "-1", "-f", str(sql_file), url], work)

    pretend_url = pg_db(admin, base)
    (ours / "pyproject.toml").write_text(
        (ours / "pyproject.toml").read_text().split("url =")[0] + f'url = "{pretend_url}"\n'
    )
    out = subprocess.run([MODELMIG, "migrate:run", "--pretend"], cwd=ours, capture_output=True, text=True, check=True)
    sql_file.write_text(pretended_sql(out.stdout))
    t_rendered = median(lambda: ours_run({"MODELMIG_NO_CACHE": "1"}), repeat)
    ours_run()  # plans the migration (the plan cache)
    t_ours, t_alembic, t_psql = median(ours_run, repeat), median(theirs_run, repeat), median(floor, repeat)
    row(
        f"migrate:run of {tables} tables on PostgreSQL, planned (plan cache) vs psql -1 -f of its --pretend SQL",
        t_ours,
        t_psql,
        "psql",
        "<= 1.0",
    )
    row(f"migrate:run of {tables} tables on PostgreSQL, rendered (no cache) vs psql", t_rendered, t_psql, "psql")
    row(f"migrate:run of {tables} tables on PostgreSQL vs alembic upgrade head", t_ours, t_alembic, "alembic")

    # nothing pending: the every-deploy path
    noop = median(lambda: run([MODELMIG, "migrate:run"], ours), repeat * 2)
    current = median(lambda: run([ALEMBIC, "current"], theirs), repeat * 2)
    select1 = median(lambda: run(["psql", "-X", "-c", "select 1", pretend_url], work), repeat * 2)
    row("migrate:run with nothing pending vs psql -c 'select 1'", noop, select1, "psql", "<= 4")
    row("migrate:run with nothing pending vs alembic current", noop, current, "alembic")


def status_measure(work: Path, count: int, repeat: int) -> None:
    """``migrate:status`` over ``count`` applied migrations (files and ledger rows
    made directly: applying 10,000 migrations is not what is measured)."""
    root = work / f"status{count}"
    modelmig_project(root, 1, "sqlite:///app.sqlite3")
    folder = root / "migrations" / "sql"
    folder.mkdir(parents=True)
    parent = None
    ids = []
    for i in range(count):
        mid = f"{20260101000000 + i:014d}_m{i}"
        (folder / f"{mid}.py").write_text(
            f'from modelmig_core import operations as op\n\nid = "{mid}"\nfamily = "sql"\nparent = {parent!r}\n'
            "atomic = True\n\nup = []\n\ndown = []\n"
        )
        ids.append(mid)
        parent = mid
    import hashlib

    from modelmig_sqlite.driver import driver

    session = driver.connect(f"sqlite:///{root / 'app.sqlite3'}")
    session.ledger.ensure()
    session.close()
    db = sqlite3.connect(root / "app.sqlite3")
    db.executemany(
        "INSERT INTO modelmig_migrations VALUES (?, 1, ?, '2026-01-01T00:00:00Z', 1, 'applied', 0)",
        [(mid, hashlib.sha256((folder / f"{mid}.py").read_bytes()).hexdigest()) for mid in ids],
    )
    db.commit()
    db.close()
    took = median(lambda: run([MODELMIG, "migrate:status"], root), repeat)
    row(f"migrate:status with {count} applied migrations", took, None, "")


def fleet_measure(work: Path, dbs: int, repeat: int, admin: object, base: str) -> None:
    root = work / f"fleet{dbs}"
    modelmig_project(root, 50, "sqlite:///unused.sqlite3")
    run([MODELMIG, "make:migration"], root)
    help_text = subprocess.run([MODELMIG, "migrate:run", "--help"], capture_output=True, text=True).stdout
    if "--jobs" not in help_text:
        row(f"{dbs} PostgreSQL databases, --all-connections --jobs 8 vs --jobs 1", None, None, "")
        return
    times = {}
    for jobs in (1, 4, 8):

        def fleet(jobs: int = jobs) -> float:
            conns = "".join(f'[tool.modelmig.connections.db{i}]\nurl = "{pg_db(admin, base)}"\n' for i in range(dbs))
            (root / "pyproject.toml").write_text('[tool.modelmig]\nmodels = ["models"]\ndefault = "db0"\n' + conns)
            return run([MODELMIG, "migrate:run", "--all-connections", "--jobs", str(jobs)], root)

        times[jobs] = median(fleet, repeat)
        drop_pg_dbs(admin)
    row(f"{dbs} PostgreSQL databases x 50 tables, --jobs 4 vs --jobs 1", times[4], times[1], "--jobs 1")
    row(f"{dbs} PostgreSQL databases x 50 tables, --jobs 8 vs --jobs 1", times[8], times[1], "--jobs 1", "<= 0.5")

    # the floor: the same SQL by psql, one database at a time and 8 at a time
    url = pg_db(admin, base)
    config = f'[tool.modelmig]\nmodels = ["models"]\n[tool.modelmig.connections.db0]\nurl = "{url}"\n'
    (root / "pyproject.toml").write_text(config)
    out = subprocess.run([MODELMIG, "migrate:run", "--pretend"], cwd=root, capture_output=True, text=True, check=True)
    sql_file = work / f"fleet{dbs}.sql"
    sql_file.write_text(pretended_sql(out.stdout))
    drop_pg_dbs(admin)

    def psql_fleet(at_once: int) -> float:
        from concurrent.futures import ThreadPoolExecutor

        urls = [pg_db(admin, base) for _ in range(dbs)]
        command = ["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", "-1", "-f", str(sql_file)]
        started = time.perf_counter()
        with ThreadPoolExecutor(at_once) as pool:
            list(pool.map(lambda u: subprocess.run([*command, u], check=True, capture_output=True), urls))
        took = time.perf_counter() - started
        drop_pg_dbs(admin)
        return took

    one, eight = median(lambda: psql_fleet(1), repeat), median(lambda: psql_fleet(8), repeat)
    floor = f"{dbs} PostgreSQL databases, the floor: psql 8 at a time (first column) vs 1 at a time"
    row(floor, eight, one, "psql, 1 at a time")
    row(f"{dbs} PostgreSQL databases: modelmig --jobs 8 vs psql 8 at a time", times[8], eight, "psql, 8 at a time")


def fleet_crash_measure(work: Path, sqlite_dbs: int, pg_dbs: int, admin: object | None, base: str) -> None:
    """A fleet run killed (SIGKILL) once half its databases are done, then run again:
    the re-run's time next to an uninterrupted run's, and every ledger checked (each
    migration applied once). SQLite databases in a folder; PostgreSQL scratch
    databases made here and dropped after."""
    import json
    import signal

    def project(kind: str, count: int) -> tuple[Path, Callable[[], list[str]], Callable[[], Callable[[], int]]]:
        root = work / f"crash-{kind}{count}"
        modelmig_project(root, 20, "sqlite:///unused.sqlite3")
        run([MODELMIG, "make:migration"], root)

        def fresh() -> list[str]:
            if kind == "sqlite":
                for old in root.glob("db*.sqlite3"):
                    old.unlink()
                urls = [f"sqlite:///db{i}.sqlite3" for i in range(count)]
            else:
                drop_pg_dbs(admin)
                urls = [pg_db(admin, base) for _ in range(count)]
            conns = "".join(f'[tool.modelmig.connections.db{i}]\nurl = "{u}"\n' for i, u in enumerate(urls))
            (root / "pyproject.toml").write_text('[tool.modelmig]\nmodels = ["models"]\ndefault = "db0"\n' + conns)
            return urls

        def ledgers() -> Callable[[], int]:
            def count_rows() -> int:
                total = 0
                for i in range(count):
                    if kind == "sqlite":
                        with sqlite3.connect(root / f"db{i}.sqlite3") as db:
                            total += db.execute("SELECT count(*) FROM modelmig_migrations").fetchone()[0]
                    else:
                        import psycopg

                        text = (root / "pyproject.toml").read_text().split(f"[tool.modelmig.connections.db{i}]")[1]
                        url = text.split('"')[1]
                        with psycopg.connect(url) as db:
                            total += db.execute("SELECT count(*) FROM modelmig_migrations").fetchone()[0]
                return total

            return count_rows

        return root, fresh, ledgers

    kinds = [("sqlite", sqlite_dbs)] + ([("pg", pg_dbs)] if admin is not None and pg_dbs else [])
    for kind, count in kinds:
        if not count:
            continue
        root, fresh, ledgers = project(kind, count)
        command = [MODELMIG, "migrate:run", "--all-connections", "--jobs", "8"]
        fresh()
        whole = run(command, root)
        fresh()
        report = root / "migrations" / ".modelmig-cache" / "fleet.json"
        report.unlink(missing_ok=True)
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        done = 0
        while proc.poll() is None and done < count // 2:
            try:
                states = json.loads(report.read_text())["databases"].values()
                done = sum(1 for d in states if d.get("state") == "done")
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_after = time.perf_counter() - started
        again = run([*command, "--json"], root)
        rows = ledgers()()
        verdict = "each migration once" if rows == count else f"LEDGER ROWS {rows} != {count}"
        label = "SQLite databases" if kind == "sqlite" else "PostgreSQL scratch databases"
        row(
            f"fleet crash, {count} {label} x 20 tables, --jobs 8: killed at {done} done "
            f"({killed_after:.2f} s), re-run vs an uninterrupted run ({verdict})",
            again,
            whole,
            "uninterrupted",
        )
        if kind == "pg":
            drop_pg_dbs(admin)


def machine() -> str:
    import platform

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    psql = (
        subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
        if shutil.which("psql")
        else "no psql"
    )
    return f"{cores} cores ({cpu}), Python {platform.python_version()}, {psql}; load average {load}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--apply-tables", type=int, default=200)
    parser.add_argument("--status", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--fleet", type=int, default=16)
    parser.add_argument("--crash-sqlite", type=int, default=200)
    parser.add_argument("--crash-pg", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--pg", default=os.environ.get("MODELMIG_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode caches on, as on a user's machine
    os.environ["MODELMIG_NOW"] = "2026-01-01T00:00:00"
    if not shutil.which(ALEMBIC):
        raise SystemExit("alembic is not installed in this environment (nox -s bench installs it)")
    work = Path(tempfile.mkdtemp(prefix="modelmig-bench-"))
    command = " ".join(["python", *sys.argv])
    at_start = machine()
    print(f"machine: {at_start}\ncommand: {command}", flush=True)
    admin = None
    try:
        for tables in args.tables:
            make_measures(work, tables, args.repeat)
        for count in args.status:
            status_measure(work, count, args.repeat)
        admin = pg_admin(args.pg)
        if admin is not None:
            try:
                apply_measures(work, args.apply_tables, args.repeat, admin, args.pg)
                drop_pg_dbs(admin)
                fleet_measure(work, args.fleet, max(1, args.repeat // 2), admin, args.pg)
            finally:
                drop_pg_dbs(admin)
        fleet_crash_measure(work, args.crash_sqlite, args.crash_pg, admin, args.pg)
    finally:
        if admin is not None:
            drop_pg_dbs(admin)
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"machine: {at_start}")
    print(f"at the end: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"command: {command}")
    print()
    print("| measure | modelmig | peer | ratio | target |")
    print("|---|---|---|---|---|")
    for measure, ours, peer, ratio, target in ROWS:
        print(f"| {measure} | {ours} | {peer} | {ratio} | {target or '—'} |")


if __name__ == "__main__":
    main()
