"""Bad input: one clear line naming the file/model/field, a non-zero exit, and no
change to any database or migration folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

GOOD = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 100)}
"""


def snapshot(root: Path) -> dict[str, str]:
    """Every file under the project (migrations, databases) with its hash."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def one_error_line(result, *needles: str) -> str:
    assert result.exit_code != 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]  # errors go to stderr
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def applied(make_project):
    """A project with one applied migration."""
    p = make_project()
    p.models(GOOD)
    p.ok("make:migration")
    p.ok("migrate:run")
    return p


MODEL_ERRORS = [
    (
        'class User(Model):\n    table = "users"\n    schema = {"id": column("increments"), "e": column("strng")}\n',
        ["models.py", "model User", "'e'", "unknown column type 'strng'"],
    ),
    (
        'class Post(Model):\n    table = "posts"\n    schema = {"id": column("increments"), "user_id": column("integer")}\n'
        '    database = {"foreign_keys": [foreign_key("user_id", "userz", "id")]}\n',
        ["models.py", "model Post", "'userz'", "no model defines"],
    ),
    (
        'class User(Model):\n    table = "users"\n    schema = {"id": column("increments"), "a": column("integer"), '
        '"b": column("integer")}\n'
        '    database = {"indexes": [index("a", name="ix_dup"), index("b", name="ix_dup")]}\n',
        ["models.py", "model User", "'ix_dup'"],
    ),
    (
        'class User(Model):\n    table = "users"\n    schema = {"id": column("increments")}\n'
        '    database = {"indexes": [index("nope")]}\n',
        ["models.py", "model User", "'nope'"],
    ),
    (
        'class User(Model):\n    table = "users"\n    schema = {"id": column("increments"), "s": column("string", nulable=True)}\n',
        ["model User", "'s'", "unknown column option 'nulable'"],
    ),
    (
        'class User(Model):\n    table = "users"\n    schema = {"id": column("increments"), "e": column("enum")}\n',
        ["model User", "'e'", "enum"],
    ),
    (
        'class User(Model):\n    table = "users"\n    schema = {"id": column("increments"), "d": column("softDeletes", default_now=True)}\n',
        ["model User", "'d'", "softDeletes"],
    ),
    ("class User(Model)\n    pass\n", ["models.py", "syntax error"]),
    (
        'class User(Model):\n    table = "users"\n    schema = {"id": column("increments")}\n'
        '    posts = None\n    schema["posts"] = relation("hasMany", "Post")\n',
        ["model User", "'posts'", "'Post'"],
    ),
]


@pytest.mark.parametrize(("source", "needles"), MODEL_ERRORS)
def test_model_errors(applied, source: str, needles: list[str]) -> None:
    before = snapshot(applied.root / "migrations") | {"db": snapshot(applied.root)["app.sqlite3"]}
    applied.models(source)
    one_error_line(applied.run("make:migration"), *needles)
    after = snapshot(applied.root / "migrations") | {"db": snapshot(applied.root)["app.sqlite3"]}
    assert after == before


def test_two_indexes_on_two_tables_with_one_name(make_project) -> None:
    p = make_project()
    p.models(
        'class A(Model):\n    table = "a"\n    schema = {"id": column("increments"), "x": column("integer")}\n'
        '    database = {"indexes": [index("x", name="ix_x")]}\n'
        'class B(Model):\n    table = "b"\n    schema = {"id": column("increments"), "x": column("integer")}\n'
        '    database = {"indexes": [index("x", name="ix_x")]}\n'
    )
    one_error_line(p.run("make:migration"), "'ix_x'", "model B")
    assert p.migration_files() == []


def test_config_without_connection(make_project) -> None:
    p = make_project()
    (p.root / "pyproject.toml").write_text('[tool.modelmig]\nmodels = ["models"]\n')
    p.models(GOOD)
    one_error_line(p.run("make:migration"), "pyproject.toml", "no connection configured")
    one_error_line(p.run("migrate:run"), "no connection configured")
    assert not (p.root / "migrations").exists()


@pytest.mark.parametrize(
    ("config", "needles"),
    [
        (
            '[tool.modelmig]\nmodels = ["models"]\n[tool.modelmig.connections.main]\ntest_url = "sqlite://"\n',
            ["'url' is missing"],
        ),
        (
            '[tool.modelmig]\nmodels = ["models"]\n[tool.modelmig.connections.main]\nurl = "${NOPE_UNSET_VAR}"\n',
            ["NOPE_UNSET_VAR"],
        ),
        (
            '[tool.modelmig]\nmodels = ["models"]\n[tool.modelmig.connections.main]\nurl = "oracle://x/y"\n',
            ["'oracle'"],
        ),
        ('[tool.modelmig]\nmodels = ["models"\n', ["invalid TOML"]),
        ('[tool.modelmig]\nmodelz = ["models"]\n', ["unknown key 'modelz'"]),
        (
            '[tool.modelmig]\nmodels = ["nosuchmodule"]\n[tool.modelmig.connections.main]\nurl = "sqlite:///a.db"\n',
            ["'nosuchmodule'"],
        ),
    ],
)
def test_config_errors(make_project, config: str, needles: list[str]) -> None:
    p = make_project()
    p.models(GOOD)
    (p.root / "pyproject.toml").write_text(config)
    if "nosuchmodule" in config:
        one_error_line(p.run("make:migration"), *needles)
    else:
        one_error_line(p.run("migrate:run"), *needles)
    assert not (p.root / "migrations").exists()
    assert not list(p.root.glob("*.db"))


def test_syntax_error_in_migration_file(applied) -> None:
    applied.models(GOOD.replace('"email"', '"name": column("string", 20, nullable=True), "email"'))
    applied.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    broken = applied.migration_files()[-1]
    broken.write_text(broken.read_text().replace("up = [", "up = [[", 1))
    before = snapshot(applied.root)
    line = one_error_line(applied.run("migrate:run"), broken.name, "syntax error")
    assert ":" in line.split(broken.name)[1][:3]  # names the line
    one_error_line(applied.run("make:migration"), broken.name)
    assert snapshot(applied.root) == before


def test_migration_file_with_wrong_contents(applied) -> None:
    f = applied.migration_files()[0]
    extra = applied.root / "migrations" / "sql" / "20270101000000_extra.py"
    extra.write_text(f"id = '20270101000000_extra'\nfamily = 'sql'\nparent = {f.stem!r}\nup = [1]\ndown = []\n")
    before = snapshot(applied.root)
    one_error_line(applied.run("migrate:run"), "20270101000000_extra.py", "up[0] is not an operation")
    assert snapshot(applied.root) == before


def test_branched_chain_is_refused(applied) -> None:
    f = applied.migration_files()[0]
    for stamp in ("20270101000000", "20270102000000"):
        (applied.root / "migrations" / "sql" / f"{stamp}_x.py").write_text(
            f"from modelmig_core import operations as op\nid = '{stamp}_x'\nfamily = 'sql'\nparent = {f.stem!r}\n"
            "up = [op.RunSQL('SELECT 1', 'SELECT 1')]\ndown = [op.RunSQL('SELECT 1', 'SELECT 1')]\n"
        )
    before = snapshot(applied.root)
    one_error_line(applied.run("migrate:run"), "20270102000000_x.py", "parent")
    assert snapshot(applied.root) == before


def test_unknown_connection_name(applied) -> None:
    before = snapshot(applied.root)
    one_error_line(applied.run("migrate:run", "--connection", "nope"), "unknown connection 'nope'", "main")
    one_error_line(applied.run("migrate:status", "--connection", "nope"), "unknown connection 'nope'")
    assert snapshot(applied.root) == before


@pytest.mark.parametrize("step", ["0", "-1", "x"])
def test_bad_step(applied, step: str) -> None:
    before = snapshot(applied.root)
    one_error_line(applied.run("migrate:rollback", "--step", step), "modelmig migrate:rollback", "'--step'")
    assert snapshot(applied.root) == before


def test_unknown_flag_and_command(applied) -> None:
    before = snapshot(applied.root)
    one_error_line(applied.run("migrate:run", "--bogus"), "modelmig migrate:run", "--bogus", "--help")
    one_error_line(applied.run("migrate:nope"), "migrate:nope")
    one_error_line(applied.run("migrate:resolve", "x"), "--applied or --rolled-back")
    assert snapshot(applied.root) == before


def test_driver_flag_without_such_connection(applied) -> None:
    one_error_line(applied.run("migrate:run", "--pg"), "--pg", "no pg connection")


def test_test_flag_without_test_url(make_project) -> None:
    p = make_project({"main": {"url": "sqlite:///app.sqlite3"}})
    p.models(GOOD)
    p.ok("make:migration")
    one_error_line(p.run("migrate:run", "--test"), "'main' has no test_url")
    assert not (p.root / "app.sqlite3").exists()


def test_failing_migration_rolls_back_entirely(applied) -> None:
    """A statement that fails mid-migration leaves nothing behind on SQLite."""
    f = applied.migration_files()[0]
    (applied.root / "migrations" / "sql" / "20270101000000_bad.py").write_text(
        "from modelmig_core import operations as op\n"
        f"id = '20270101000000_bad'\nfamily = 'sql'\nparent = {f.stem!r}\n"
        "up = [op.RunSQL(['CREATE TABLE t1 (x INTEGER)', \"INSERT INTO users (id, email) VALUES (1, 'a')\", 'SELEKT'], destructive_sql=False)]\n"
        "down = []\n"
    )
    before = snapshot(applied.root)["app.sqlite3"]
    one_error_line(applied.run("migrate:run"), "20270101000000_bad.py", "SELEKT")
    assert snapshot(applied.root)["app.sqlite3"] == before
    import sqlite3

    c = sqlite3.connect(applied.root / "app.sqlite3")
    assert c.execute("SELECT name FROM sqlite_master WHERE name = 't1'").fetchall() == []
    assert c.execute("SELECT count(*) FROM modelmig_migrations").fetchone() == (1,)
    c.close()


def test_passwords_never_appear_in_output(make_project) -> None:
    p = make_project(
        {
            "main": {"url": "sqlite:///app.sqlite3"},
            "remote": {"url": "postgresql://app:s3cretpw@127.0.0.1:1/nowhere"},
        },
        extra_config='default = "main"',
    )
    p.models(GOOD)
    p.ok("make:migration")
    result = p.run("migrate:status", "--connection", "remote")
    line = one_error_line(result, "cannot connect", "app:***@127.0.0.1:1/nowhere")
    assert "s3cretpw" not in line
    summary = p.run("migrate:run", "--all-connections")
    assert summary.exit_code != 0
    assert "s3cretpw" not in summary.output and "app:***@" in summary.output
