"""Benchmarks (not timed tests): make:migration on a large schema, and the
every-deploy path, `migrate:run` / `migrate:status` with nothing pending.

    python benchmarks/bench_make_and_noop_run.py [--tables 200] [--columns 20] [--repeat 10]

Prints one line per measurement. Uses a throwaway SQLite project.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from modelmig_core.cli import cli


def write_project(root: Path, tables: int, columns: int) -> None:
    (root / "pyproject.toml").write_text(
        '[tool.modelmig]\nmodels = ["models"]\n[tool.modelmig.connections.main]\nurl = "sqlite:///bench.sqlite3"\n'
    )
    lines = ["from modelmig_core import Model, column, foreign_key, index\n"]
    for t in range(tables):
        cols = ['"id": column("increments")']
        cols += [f'"c{c}": column("string", 100, nullable=True)' for c in range(columns)]
        fk = f', "foreign_keys": [foreign_key("parent_id", "t{t - 1}", "id")]' if t else ""
        if t:
            cols.append('"parent_id": column("integer")')
        lines.append(
            f"class T{t}(Model):\n    table = 't{t}'\n    schema = {{{', '.join(cols)}}}\n"
            f'    database = {{"indexes": [index(["c0", "c1"])]{fk}}}\n'
        )
    (root / "models.py").write_text("\n".join(lines))


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def report(name: str, samples: list[float]) -> None:
    median, low = statistics.median(samples) * 1000, min(samples) * 1000
    print(f"{name}: median {median:.1f} ms, min {low:.1f} ms (n={len(samples)})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    sys.dont_write_bytecode = True
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_project(root, args.tables, args.columns)
        os.chdir(root)
        runner = CliRunner()

        def check() -> None:
            result = runner.invoke(cli, ["make:migration", "--check"])
            assert result.exit_code in (0, 1), result.output

        shape = f"{args.tables} tables x {args.columns + 2} columns"
        report(f"make:migration --check, {shape} (in-process)", timed(check, 3))
        start = time.perf_counter()
        result = runner.invoke(cli, ["make:migration"], env={"MODELMIG_NOW": "2026-01-01T00:00:00"})
        assert result.exit_code == 0, result.output
        report("make:migration writing the file (in-process)", [time.perf_counter() - start])
        start = time.perf_counter()
        result = runner.invoke(cli, ["make:migration"])
        assert "No changes" in result.output, result.output
        report("make:migration replaying that history, no change (in-process)", [time.perf_counter() - start])

        exe = str(Path(sys.executable).parent / "modelmig")
        start = time.perf_counter()
        subprocess.run([exe, "migrate:run"], check=True, capture_output=True)
        report(f"migrate:run creating {args.tables} tables (process)", [time.perf_counter() - start])
        for command in ("migrate:run", "migrate:status", "--help"):
            samples = timed(lambda c=command: subprocess.run([exe, c], check=True, capture_output=True), args.repeat)
            report(f"modelmig {command} with nothing pending (process)", samples)


if __name__ == "__main__":
    main()
