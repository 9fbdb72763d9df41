"""The production guard: with APP_ENV=production, dropping data needs all three of
MODELMIG_ALLOW_PROD_DESTRUCTIVE=true, --force and --yes. Elsewhere, destructive
commands ask on a terminal and refuse without --yes when there is none."""

from __future__ import annotations

import sqlite3

import pytest

MODELS = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 100)}
"""

PROD = {"APP_ENV": "production"}
ALLOW = {"MODELMIG_ALLOW_PROD_DESTRUCTIVE": "true"}


@pytest.fixture
def applied(make_project):
    p = make_project()
    p.models(MODELS)
    p.ok("make:migration")
    p.ok("migrate:run")
    with sqlite3.connect(p.root / "app.sqlite3") as c:
        c.execute("INSERT INTO users (email) VALUES ('kept@example.com')")
    return p


def users(p) -> list[tuple[str]]:
    c = sqlite3.connect(p.root / "app.sqlite3")
    try:
        return c.execute("SELECT email FROM users").fetchall()
    finally:
        c.close()


@pytest.mark.parametrize("command", ["migrate:reset", "migrate:fresh"])
@pytest.mark.parametrize(
    ("env", "flags", "missing"),
    [
        ({}, ["--force", "--yes"], "MODELMIG_ALLOW_PROD_DESTRUCTIVE=true"),
        (ALLOW, ["--yes"], "--force"),
        (ALLOW, ["--force"], "--yes"),
        ({"MODELMIG_ALLOW_PROD_DESTRUCTIVE": "yes"}, ["--force", "--yes"], "MODELMIG_ALLOW_PROD_DESTRUCTIVE=true"),
    ],
)
def test_production_refuses_each_missing_piece(applied, command, env, flags, missing) -> None:
    result = applied.run(command, *flags, env={**PROD, **env})
    assert result.exit_code != 0
    assert "refused" in result.output and "APP_ENV=production" in result.output
    assert missing in result.output.split("needs", 1)[1]
    assert users(applied) == [("kept@example.com",)]


@pytest.mark.parametrize("command", ["migrate:reset", "migrate:fresh"])
def test_production_allows_with_all_three(applied, command) -> None:
    applied.ok(command, "--force", "--yes", env={**PROD, **ALLOW})
    if command == "migrate:fresh":
        assert users(applied) == []
    else:
        c = sqlite3.connect(applied.root / "app.sqlite3")
        assert c.execute("SELECT name FROM sqlite_master WHERE name = 'users'").fetchall() == []
        c.close()


def test_production_rollback_that_drops_a_table_is_guarded(applied) -> None:
    result = applied.run("migrate:rollback", env=PROD)
    assert result.exit_code != 0 and "drop users table" not in result.output
    assert "--force" in result.output and "--yes" in result.output
    assert users(applied) == [("kept@example.com",)]
    applied.ok("migrate:rollback", "--force", "--yes", env={**PROD, **ALLOW})


def test_production_run_of_additive_migration_needs_nothing(applied) -> None:
    applied.models(MODELS.replace('"email"', '"name": column("string", 20, nullable=True), "email"'))
    applied.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    applied.ok("migrate:run", env=PROD)


def test_production_run_that_drops_a_column_is_guarded(applied) -> None:
    applied.models(MODELS.replace(', "email": column("string", 100)', ""))
    applied.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    result = applied.run("migrate:run", env=PROD)
    assert result.exit_code != 0 and "refused" in result.output
    assert users(applied) == [("kept@example.com",)]
    applied.ok("migrate:run", "--force", "--yes", env={**PROD, **ALLOW})


@pytest.mark.parametrize("command", ["migrate:reset", "migrate:fresh"])
def test_outside_production_no_terminal_needs_yes(applied, command) -> None:
    result = applied.run(command)  # CliRunner's stdin is not a terminal
    assert result.exit_code != 0 and "--yes" in result.output
    assert users(applied) == [("kept@example.com",)]


def test_outside_production_asks_on_a_terminal(applied, monkeypatch) -> None:
    from modelmig_core.run import guard

    asked: list[str] = []

    def no(question: str) -> bool:
        asked.append(question)
        return False

    with pytest.raises(guard.GuardError):
        guard.confirm_destructive("migrate:reset", force=False, yes=False, ask=no, interactive=True)
    assert asked and "drops data" in asked[0]
    guard.confirm_destructive("migrate:reset", force=False, yes=False, ask=lambda q: True, interactive=True)
