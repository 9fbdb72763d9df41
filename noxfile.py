"""nox sessions: tests, migrations (the example app's lifecycle per driver), fuzz
(the property tests with 500 examples per driver), lint, build, bench, docs.

    nox                       # lint + tests
    nox -s migrations         # make -> run -> status -> rollback -> run -> reset -> fresh
                              # on sqlite, pg and mysql (real servers)
    nox -s "migrations(driver='pg')"
    nox -s samples            # the public sample schemas adopted, each table of what was preserved
    nox -s heavy              # the online writer test on a 2,000,000-row table
    nox --no-venv -s tests    # in the current environment (e.g. ./.venv from dev.py)
    nox -s docs               # the user guide (docs/, mkdocs.yml), strictly: a warning fails it

Server URLs: MODELMIG_TEST_PG_URL / MODELMIG_TEST_MYSQL_URL (defaults: localhost,
database modelmig_test); the migrations session creates and drops its own
scratch database next to that one.
"""

from __future__ import annotations

import json
import os
import shutil
import tomllib
import uuid
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
DRIVERS = ["drivers/sqlite", "drivers/pg", "drivers/mysql", "drivers/mongo", "plugins/pytest", "plugins/duckdb"]
#: the core's test extra (the drivers it names are installed from their folders by install())
TEST_TOOLS = [
    r
    for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    if not r.startswith("modelmig[")
]
#: the core's docs extra: MkDocs and its theme
DOCS_TOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["docs"]
PG_URL = os.environ.get("MODELMIG_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/modelmig_test")
MYSQL_URL = os.environ.get("MODELMIG_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/modelmig_test")
EXAMPLE = ROOT / "examples" / "blog"
EXAMPLE_NOW = "2026-11-25T12:00:00"  # the committed example migration was made at this time

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_venv = "yes"


def packages() -> list[str]:
    return ["."] + [d for d in DRIVERS if (ROOT / d / "pyproject.toml").exists()]


def install(session: nox.Session, *extra: str, editable: bool = True) -> None:
    """Install modelmig and its drivers (editable, or as a user installs them)
    unless running with --no-venv."""
    if isinstance(session.virtualenv, nox.virtualenv.PassthroughEnv):
        return
    if editable:
        session.install(*[arg for p in packages() for arg in ("-e", str(ROOT / p))], *extra)
    else:
        session.install(*[str(ROOT / p) for p in packages()], *extra)


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (server tests skip locally without servers, fail under CI=true)."""
    install(session, *TEST_TOOLS)
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def samples(session: nox.Session) -> None:
    """Adopting every public sample schema of tests/fixtures/schemas (pagila, sakila,
    chinook, northwind, employees) on the real servers, each case's table of what
    was preserved printed (``-m samples``: the cases the default run deselects)."""
    install(session, *TEST_TOOLS)
    session.run(
        "python", "-m", "pytest", "-m", "samples or not samples", "-s", "tests/test_sample_schemas.py", *session.posargs
    )


@nox.session
def heavy(session: nox.Session) -> None:
    """The big-table online run: a writer with lock_timeout 200ms updates a
    2,000,000-row table throughout an online migration and never times out, and
    times out under the default plan (``-m heavy``: deselected by default)."""
    install(session, *TEST_TOOLS)
    session.run("python", "-m", "pytest", "-m", "heavy", "tests/test_online.py", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """The property tests with many examples: 500 random schema changes per SQL
    driver (real servers) and 2000 pure ones, the attacker alphabets of the
    hardening tests (make:models names, secrets, the raw-SQL oracle...), the
    diff's comparators against the old diff, 40 index option combinations per
    server and twenty fresh-process --jobs rounds (the CI run takes fewer of each).
    ``MODELMIG_HYPOTHESIS_PROFILE=fuzz``; derandomized tests in CI draw new examples here."""
    install(session, *TEST_TOOLS)
    session.run(
        "python",
        "-m",
        "pytest",
        "-q",
        "tests/test_properties.py",
        "tests/test_diff_comparators.py",
        "tests/test_keys_real_schemas.py",
        "tests/test_jobs.py",
        *sorted(str(p) for p in Path("tests").glob("test_hardening_*.py")),
        *session.posargs,
        env={"MODELMIG_HYPOTHESIS_PROFILE": "fuzz", "MODELMIG_SECRET_EXAMPLES": "60"},
    )


@nox.session
def lint(session: nox.Session) -> None:
    if not isinstance(session.virtualenv, nox.virtualenv.PassthroughEnv):
        session.install("ruff>=0.6")
    session.run("ruff", "check", ".")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the user guide into ./site in strict mode (any warning fails the build);
    the command reference is generated from the click definitions by
    docs/hooks/cli_reference.py, so modelmig itself is installed too."""
    install(session, *DOCS_TOOLS)
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / "site"), env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session
def build(session: nox.Session) -> None:
    """Build a wheel and an sdist of each distribution into ./dist."""
    if not isinstance(session.virtualenv, nox.virtualenv.PassthroughEnv):
        session.install("build")
    out = ROOT / "dist"
    shutil.rmtree(out, ignore_errors=True)
    for pkg in packages():
        session.run("python", "-m", "build", "--outdir", str(out), str(ROOT / pkg))
    built = sorted(p.name for p in out.iterdir())
    session.log("built: " + ", ".join(built))
    if len(built) != 2 * len(packages()):
        session.error(f"expected a wheel and an sdist for each of {len(packages())} distributions, got {built}")
    for wheel in sorted(out.glob("*.whl")):
        problems = wheel_problems(wheel)
        if problems:
            session.error(f"{wheel.name}: {'; '.join(problems)}")
    session.log("every wheel has its LICENSE, py.typed, readme and licence metadata")


def wheel_problems(wheel: Path) -> list[str]:
    """What a wheel lacks: the MIT licence file and expression, the readme as its
    long description, a py.typed marker."""
    import zipfile

    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    problems = []
    if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
        problems.append("no LICENSE")
    if "License-Expression: MIT" not in metadata:
        problems.append("no License-Expression: MIT")
    if "Description-Content-Type: text/markdown" not in metadata:
        problems.append("no readme")
    if not any(n.endswith("/py.typed") for n in names):
        problems.append("no py.typed")
    return problems


@nox.session
def bench(session: nox.Session) -> None:
    """modelmig next to Alembic and psql (benchmarks/bench_vs_alembic.py), or the
    scripts named after --: ``nox -s bench -- benchmarks/bench_drift.py``; a busy
    table's writer under the default and the online plan:
    ``nox -s bench -- benchmarks/online_writer.py [--rows 200000]``."""
    install(session, editable=False)  # as a user installs it: no editable-install finders at start-up
    if not isinstance(session.virtualenv, nox.virtualenv.PassthroughEnv):
        session.install("alembic>=1.13", "psycopg[binary]>=3.1")
    scripts = [a for a in session.posargs if a.endswith(".py")] or [str(ROOT / "benchmarks" / "bench_vs_alembic.py")]
    options = [a for a in session.posargs if not a.endswith(".py")]
    for script in scripts:
        session.run("python", script, *options)


# ---------------------------------------------------------------- migrations lifecycle

DATABASES = str(ROOT / "tests" / "support" / "databases.py")  # create/drop a scratch database


def database_url(admin: str, name: str) -> str:
    scheme_host, _, _ = admin.rpartition("/")
    return f"{scheme_host}/{name}"


@nox.session
@nox.parametrize("driver", ["sqlite", "pg", "mysql"])
def migrations(session: nox.Session, driver: str) -> None:
    """The example blog's whole lifecycle on one driver, against a real database."""
    install(session)
    work = Path(session.create_tmp()).resolve() / f"blog-{driver}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("*.sqlite3", "__pycache__"))
    env = {"MODELMIG_NOW": EXAMPLE_NOW, "PYTHONDONTWRITEBYTECODE": "1", "BLOG_DB": str(work / "blog.sqlite3")}
    scratch = f"blog_nox_{uuid.uuid4().hex[:8]}"
    admin = {"pg": PG_URL, "mysql": MYSQL_URL}.get(driver)
    if admin:
        session.run("python", DATABASES, "create", driver, admin, scratch, silent=True)
        env["BLOG_PG_URL" if driver == "pg" else "BLOG_MYSQL_URL"] = database_url(admin, scratch)
    connection = {"sqlite": "main", "pg": "pg", "mysql": "mysql"}[driver]
    session.chdir(work)

    def modelmig(*args: str, silent: bool = False) -> str:
        return session.run("modelmig", *args, env=env, silent=silent) or ""

    try:
        # make: the committed migration matches the models, and making it again gives the same bytes
        modelmig("make:migration", "--check")
        committed = {p.name: p.read_bytes() for p in (work / "migrations" / "sql").glob("*.py")}
        if not committed:
            session.error("the example app has no committed migration")
        for name in committed:
            (work / "migrations" / "sql" / name).unlink()
        modelmig("make:migration")
        remade = {p.name: p.read_bytes() for p in (work / "migrations" / "sql").glob("*.py")}
        if remade != committed:
            session.error("make:migration did not reproduce the committed migration byte for byte")

        target = ("--connection", connection)
        modelmig("migrate:run", *target)
        expect_status(session, modelmig("migrate:status", "--json", *target, silent=True), "applied")
        modelmig("migrate:rollback", *target)
        expect_status(session, modelmig("migrate:status", "--json", *target, silent=True), "pending")
        modelmig("migrate:run", *target)
        modelmig("migrate:reset", "--yes", *target)
        expect_status(session, modelmig("migrate:status", "--json", *target, silent=True), "pending")
        modelmig("migrate:fresh", "--yes", *target)
        expect_status(session, modelmig("migrate:status", "--json", *target, silent=True), "applied")
        modelmig("migrate:status", *target)
    finally:
        session.chdir(ROOT)
        if admin:
            session.run("python", DATABASES, "drop", driver, admin, scratch, silent=True)


def expect_status(session: nox.Session, output: str, status: str) -> None:
    report = json.loads(output)
    statuses = {m["status"] for c in report["connections"] for m in c["migrations"]}
    if statuses != {status}:
        session.error(f"expected every migration {status}, got {statuses}")
