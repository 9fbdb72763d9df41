"""The nothing-pending read's client: each installed database client's import, and
import + connect + one query, as whole processes, next to ``python -c pass`` and
``psql -c 'select 1'`` (issue 22, item 2).

    python benchmarks/bench_ledger_clients.py [--repeat 11] [--pg-dsn "host=127.0.0.1 user=postgres dbname=postgres"]
        [--mysql-host 127.0.0.1] [--mysql-user root] [--mysql-db mysql]

Clients that are not installed are listed as such (psycopg2-binary, pg8000 and
mysqlclient are not all dependencies; mysqlclient needs libmariadb to build).
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--pg-dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    parser.add_argument("--mysql-host", default="127.0.0.1")
    parser.add_argument("--mysql-user", default="root")
    parser.add_argument("--mysql-db", default="mysql")
    args = parser.parse_args()
    pg, host, user, db = args.pg_dsn, args.mysql_host, args.mysql_user, args.mysql_db
    pg_kw = dict(part.split("=", 1) for part in pg.split())
    cases = {
        "psycopg": ("psycopg", f"import psycopg; c = psycopg.connect({pg!r}, autocommit=True); c.execute('select 1')"),
        "psycopg2": (
            "psycopg2",
            f"import psycopg2; c = psycopg2.connect({pg!r}); c.autocommit = True; c.cursor().execute('select 1')",
        ),
        "pg8000": (
            "pg8000",
            f"import pg8000.native; c = pg8000.native.Connection({pg_kw.get('user', 'postgres')!r}, "
            f"host={pg_kw.get('host', '127.0.0.1')!r}, database={pg_kw.get('dbname', 'postgres')!r}); "
            "c.run('select 1')",
        ),
        "PyMySQL": (
            "pymysql",
            f"import pymysql; c = pymysql.connect(host={host!r}, user={user!r}, database={db!r}); "
            "c.cursor().execute('select 1')",
        ),
        "mysqlclient": (
            "MySQLdb",
            f"import MySQLdb; c = MySQLdb.connect(host={host!r}, user={user!r}, database={db!r}); "
            "c.cursor().execute('select 1')",
        ),
    }
    installed = {name: case for name, case in cases.items() if importlib.util.find_spec(case[0]) is not None}
    for name in cases.keys() - installed.keys():
        print(f"  {name}: not installed")

    def timed(command: list[str]) -> float:
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        return (time.perf_counter() - started) * 1000

    def import_ms(module: str) -> float:
        command = [sys.executable, "-X", "importtime", "-c", f"import {module}"]
        err = subprocess.run(command, capture_output=True, text=True)
        return int(err.stderr.strip().splitlines()[-1].split("|")[1]) / 1000

    whole: dict[str, list[float]] = {name: [] for name in installed}
    imports: dict[str, list[float]] = {name: [] for name in installed}
    floors: dict[str, list[float]] = {"python -c pass": []}
    psql = shutil.which("psql")
    if psql:
        floors["psql -c 'select 1'"] = []
    for _ in range(args.repeat):  # interleaved, so that a busy moment hits every client alike
        floors["python -c pass"].append(timed([sys.executable, "-c", "pass"]))
        if psql:
            floors["psql -c 'select 1'"].append(timed([psql, "-X", "-q", pg, "-c", "select 1"]))
        for name, (module, code) in installed.items():
            whole[name].append(timed([sys.executable, "-c", code]))
            imports[name].append(import_ms(module))
    print(f"| client | import (-X importtime) | import + connect + select 1 | (medians of {args.repeat}) |")
    print("|---|---|---|---|")
    for name in installed:
        print(f"| {name} | {statistics.median(imports[name]):.1f} ms | {statistics.median(whole[name]):.1f} ms | |")
    for name, values in floors.items():
        print(f"| {name} | — | {statistics.median(values):.1f} ms | |")


if __name__ == "__main__":
    main()
