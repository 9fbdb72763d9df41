"""Drift detection on PostgreSQL: ``modelmig migrate:status --drift`` next to
``alembic check``, on the same schema of 100 and 1,000 tables, in one run.

    python benchmarks/bench_drift.py [--tables 100 1000] [--repeat 3]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres]

The schema comes from ``bench_vs_alembic.py``'s generators (N tables of 20
columns, a composite index and a foreign key to the previous table each):
modelmig's models, and the same schema as SQLAlchemy metadata for Alembic. Each
tool's own migration creates it in a database of its own; then each tool
compares the live database with what it expects, as a whole process, as a user
runs it (modelmig: reflection through SQLAlchemy's batched Inspector and the
comparison with the applied migrations; Alembic: autogenerate's comparison of
the live database with the metadata). Both must find no difference. Also
printed: the reflection alone, in-process. Needs alembic (``pip install
alembic``) and a PostgreSQL server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_vs_alembic import (  # the schema generators are shared, not copied
    ALEMBIC,
    MODELMIG,
    alembic_project,
    drop_pg_dbs,
    modelmig_project,
    pg_admin,
    pg_db,
    run,
    sa_pg,
)


def timed(args: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode not in ok:
        raise SystemExit(f"{' '.join(args)} exited {result.returncode} in {cwd}:\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout + result.stderr


def reflect_in_process(url: str) -> float:
    from modelmig_pg.driver import driver

    start = time.perf_counter()
    with driver.connect(url) as session:
        state = driver.reflect(session)
    elapsed = time.perf_counter() - start
    assert state.tables, "nothing reflected"
    return elapsed


def measure(work: Path, tables: int, repeat: int, admin: object, base: str) -> list[tuple[str, str, str, str]]:
    url = pg_db(admin, base)
    ours = modelmig_project(work / f"drift{tables}", tables, url)
    run([MODELMIG, "make:migration"], ours)
    run([MODELMIG, "migrate:run"], ours)
    theirs = alembic_project(work / f"aldrift{tables}", tables, sa_pg(pg_db(admin, base)))
    run([ALEMBIC, "revision", "--autogenerate", "-m", "init"], theirs)
    run([ALEMBIC, "upgrade", "head"], theirs)

    first, out = timed([MODELMIG, "migrate:status", "--drift"], ours)
    if "drift: none" not in out:
        raise SystemExit(f"modelmig found drift on an untouched database:\n{out}")
    t_ours = statistics.median(timed([MODELMIG, "migrate:status", "--drift"], ours)[0] for _ in range(repeat))
    _, out = timed([ALEMBIC, "check"], theirs)
    if "No new upgrade operations detected" not in out:
        raise SystemExit(f"alembic check found differences on an untouched database:\n{out}")
    t_alembic = statistics.median(timed([ALEMBIC, "check"], theirs)[0] for _ in range(repeat))
    t_reflect = statistics.median(reflect_in_process(url) for _ in range(repeat))

    def fmt(v: float) -> str:
        return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"

    rows = [
        (
            f"drift of {tables} tables: migrate:status --drift vs alembic check",
            fmt(t_ours),
            f"{fmt(t_alembic)} (alembic)",
            f"{t_ours / t_alembic:.2f}",
        ),
        (f"reflection of {tables} tables alone (in-process, batched Inspector)", fmt(t_reflect), "", ""),
    ]
    for r in rows:
        print(f"  {r[0]}: modelmig {r[1]}{', ' + r[2] if r[2] else ''}{', ratio ' + r[3] if r[3] else ''}", flush=True)
    print(f"  (first --drift run, cold: {fmt(first)})", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tables", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--pg", default=os.environ.get("MODELMIG_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["MODELMIG_NOW"] = "2026-01-01T00:00:00"
    if not shutil.which(ALEMBIC):
        raise SystemExit("alembic is not installed in this environment (pip install alembic)")
    admin = pg_admin(args.pg)
    if admin is None:
        raise SystemExit(f"no PostgreSQL server at {args.pg}")
    work = Path(tempfile.mkdtemp(prefix="modelmig-bench-drift-"))
    rows = []
    try:
        for tables in args.tables:
            rows += measure(work, tables, args.repeat, admin, args.pg)
    finally:
        drop_pg_dbs(admin)
        shutil.rmtree(work, ignore_errors=True)
    print()
    print("| measure | modelmig | peer | ratio |")
    print("|---|---|---|---|")
    for measure_, ours, peer, ratio in rows:
        print(f"| {measure_} | {ours} | {peer} | {ratio} |")


if __name__ == "__main__":
    main()
