"""``modelmig init``: a new project in one command, in an empty folder or beside a
pyproject.toml; make → run → status right after it on SQLite; a second init
changes nothing; hostile text never leaves the TOML string it is written into."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelmig_core.init import toml_string


def modelmig(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command, in its own process (``python -m modelmig_core``), in ``cwd``."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1"}
    env.pop("MODELMIG_NOW", None)
    return subprocess.run(
        [sys.executable, "-m", "modelmig_core", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def ok(cwd: Path, *args: str) -> str:
    result = modelmig(cwd, *args)
    assert result.returncode == 0, (
        f"modelmig {' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
    )
    return result.stdout


def tree_hashes(root: Path) -> dict[str, str]:
    """Every file and folder under ``root``: its path and the hash of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
    }


def sqlite_tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def make_run_status(root: Path, models_file: Path) -> None:
    made = ok(root, "make:migration")
    assert "Created migrations/sql/" in made and "create_notes_table" in made
    ok(root, "migrate:run")
    status = ok(root, "migrate:status")
    assert "create_notes_table" in status and "applied" in status
    assert {"notes", "modelmig_migrations"} <= sqlite_tables(root / "app.sqlite3")
    with sqlite3.connect(root / "app.sqlite3") as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(notes)")]
    assert columns == ["id", "title", "body", "created_at"]
    assert "class Note(Model)" in models_file.read_text()
    assert modelmig(root, "make:migration", "--check").returncode == 0  # models and migrations agree


def test_init_in_an_empty_folder_then_make_run_status(tmp_path: Path) -> None:
    out = ok(tmp_path, "init")
    assert "wrote modelmig.toml" in out and "wrote models.py" in out and "wrote migrations/" in out
    config = tomllib.loads((tmp_path / "modelmig.toml").read_text())
    assert config == {
        "models": ["models"],
        "migrations": "migrations",
        "default": "main",
        "connections": {"main": {"url": "sqlite:///app.sqlite3"}},
    }
    assert (tmp_path / "migrations").is_dir() and not any((tmp_path / "migrations").iterdir())
    assert not (tmp_path / "app.sqlite3").exists()  # init creates no database
    make_run_status(tmp_path, tmp_path / "models.py")


def test_init_beside_a_pyproject_appends_its_table_and_keeps_the_users_text(tmp_path: Path) -> None:
    original = '# my project\n[project]\nname = "my-app"\nversion = "0.1"\n\n[tool.ruff]\nline-length = 100  # keep\n'
    (tmp_path / "pyproject.toml").write_text(original)
    (tmp_path / "my_app").mkdir()
    (tmp_path / "my_app" / "__init__.py").write_text("")
    ok(tmp_path, "init")
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(original)  # appended, never rewritten
    data = tomllib.loads(text)
    assert data["tool"]["ruff"] == {"line-length": 100} and data["project"]["name"] == "my-app"
    assert data["tool"]["modelmig"]["models"] == ["my_app.models"]
    assert not (tmp_path / "modelmig.toml").exists()
    make_run_status(tmp_path, tmp_path / "my_app" / "models.py")


def test_toml_flag_writes_modelmig_toml_beside_a_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    before = (tmp_path / "pyproject.toml").read_bytes()
    ok(tmp_path, "init", "--toml")
    assert (tmp_path / "pyproject.toml").read_bytes() == before
    assert tomllib.loads((tmp_path / "modelmig.toml").read_text())["models"] == ["models"]
    make_run_status(tmp_path, tmp_path / "models.py")


def test_pyproject_flag_creates_a_pyproject_in_an_empty_folder(tmp_path: Path) -> None:
    ok(tmp_path, "init", "--pyproject")
    assert tomllib.loads((tmp_path / "pyproject.toml").read_text())["tool"]["modelmig"]["default"] == "main"
    make_run_status(tmp_path, tmp_path / "models.py")


@pytest.mark.parametrize("flags", [(), ("--toml",), ("--pyproject",)])
def test_a_second_init_changes_nothing_and_names_what_exists(tmp_path: Path, flags: tuple[str, ...]) -> None:
    ok(tmp_path, "init", *flags)
    ok(tmp_path, "make:migration")
    before = tree_hashes(tmp_path)
    result = modelmig(tmp_path, "init", *flags)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "already exist" in lines[0] and "models.py" in lines[0] and "migrations/" in lines[0]
    assert tree_hashes(tmp_path) == before


@pytest.mark.parametrize("existing", ["models.py", "migrations", "modelmig.toml"])
def test_any_one_existing_path_stops_init_before_anything_is_written(tmp_path: Path, existing: str) -> None:
    if existing == "migrations":
        (tmp_path / existing).mkdir()
    else:
        (tmp_path / existing).write_text("models = ['mine']\n" if existing.endswith(".toml") else "# mine\n")
    before = tree_hashes(tmp_path)
    result = modelmig(tmp_path, "init")
    assert result.returncode != 0 and existing in result.stderr and "nothing written" in result.stderr
    assert tree_hashes(tmp_path) == before


def test_a_pyproject_with_a_modelmig_table_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.modelmig]\nmodels = ["app.models"]\n')
    before = tree_hashes(tmp_path)
    result = modelmig(tmp_path, "init")
    assert result.returncode != 0 and "pyproject.toml" in result.stderr
    assert tree_hashes(tmp_path) == before


def test_a_pyproject_whose_tool_table_is_inline_is_refused_not_broken(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("tool = {ruff = {line-length = 90}}\n")
    before = tree_hashes(tmp_path)
    result = modelmig(tmp_path, "init")
    assert result.returncode != 0 and "pyproject.toml" in result.stderr and "--toml" in result.stderr
    assert tree_hashes(tmp_path) == before


HOSTILE_URLS = [
    'sqlite:///a"b.sqlite3',
    'sqlite:///x"\n[connections.evil]\nurl = "postgresql://x',  # refused: a line break
    'sqlite:///back\\slash\\".db',
    "sqlite:///''' \"\"\" #not a comment ].db",
    "sqlite:///ünïcødé ☃.db",
    "sqlite:///tab\there.db",  # refused: a control character
    'postgresql://app:${DB_PASSWORD}@db.example/app?x="]',
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_hostile_url_stays_inside_its_toml_string(tmp_path: Path, url: str) -> None:
    result = modelmig(tmp_path, "init", "--url", url)
    if any(ord(c) < 0x20 for c in url):
        assert result.returncode != 0 and "control character" in result.stderr
        assert tree_hashes(tmp_path) == {}
        return
    assert result.returncode == 0, result.stderr
    config = tomllib.loads((tmp_path / "modelmig.toml").read_text())
    assert config["connections"] == {"main": {"url": url}}
    assert set(config) == {"models", "migrations", "default", "connections"}


def test_a_hostile_url_in_a_pyproject_leaves_the_users_tables_as_they_were(tmp_path: Path) -> None:
    original = '[project]\nname = "p"\n[tool.black]\nline-length = 88\n'
    (tmp_path / "pyproject.toml").write_text(original)
    url = 'sqlite:///x" ]\\ [tool.black] line-length = 1 # \\n'
    ok(tmp_path, "init", "--url", url)
    data = tomllib.loads((tmp_path / "pyproject.toml").read_text())
    assert data["tool"]["black"] == {"line-length": 88}
    assert data["tool"]["modelmig"]["connections"]["main"]["url"] == url


@pytest.mark.parametrize("driver", ['sqlite"\n[x]', "no-such-driver", "sqlite\\"])
def test_an_unknown_or_hostile_driver_name_is_refused_with_nothing_written(tmp_path: Path, driver: str) -> None:
    result = modelmig(tmp_path, "init", "--driver", driver)
    assert result.returncode != 0 and "no driver named" in result.stderr and "installed:" in result.stderr
    assert tree_hashes(tmp_path) == {}


def test_an_installed_driver_name_is_written_and_used(tmp_path: Path) -> None:
    ok(tmp_path, "init", "--driver", "sqlite")
    assert tomllib.loads((tmp_path / "modelmig.toml").read_text())["connections"]["main"]["driver"] == "sqlite"
    make_run_status(tmp_path, tmp_path / "models.py")


@pytest.mark.parametrize(
    "url",
    ["postgresql://app:hunter2@db/app", "mysql://root:${PW}x@127.0.0.1/app", "postgresql://u:p%40ss@h/d"],
)
def test_a_url_with_a_password_is_refused_with_the_env_var_advice(tmp_path: Path, url: str) -> None:
    result = modelmig(tmp_path, "init", "--url", url)
    assert result.returncode != 0 and "${DB_PASSWORD}" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert tree_hashes(tmp_path) == {}


def test_a_password_given_as_a_variable_is_accepted(tmp_path: Path) -> None:
    url = "postgresql://app:${DB_PASSWORD}@127.0.0.1:1/app"
    ok(tmp_path, "init", "--url", url)
    assert tomllib.loads((tmp_path / "modelmig.toml").read_text())["connections"]["main"]["url"] == url


@pytest.mark.parametrize("url", ["app.sqlite3", "://x", "1abc://x", ""])
def test_a_text_that_is_no_url_is_refused(tmp_path: Path, url: str) -> None:
    result = modelmig(tmp_path, "init", "--url", url)
    assert result.returncode != 0 and "scheme://" in result.stderr
    assert tree_hashes(tmp_path) == {}


def test_an_existing_database_gets_the_adoption_path_and_it_works(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "legacy.sqlite3") as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY AUTOINCREMENT, email VARCHAR(120) NOT NULL)")
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, total INTEGER NOT NULL)")
    out = ok(tmp_path, "init", "--url", "sqlite:///legacy.sqlite3")
    assert "already has 2 table(s) (customers, orders)" in out
    assert "make:models" in out and "migrate:baseline" in out
    # the path it offers, followed as printed
    ok(tmp_path, "make:models", "--force")
    assert "customers" in (tmp_path / "models.py").read_text()
    ok(tmp_path, "make:migration")
    ok(tmp_path, "migrate:baseline")
    status = ok(tmp_path, "migrate:status", "--drift")
    assert "applied" in status and "drift: none" in status
    assert modelmig(tmp_path, "make:migration", "--check").returncode == 0


def test_a_url_of_a_database_that_does_not_exist_gets_the_plain_closing_line(tmp_path: Path) -> None:
    out = ok(tmp_path, "init", "--url", "sqlite:///fresh.sqlite3")
    assert "next: edit models.py" in out and "make:models" not in out
    assert not (tmp_path / "fresh.sqlite3").exists()  # never created by looking at it


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text())
def test_toml_string_round_trips_any_text(value: str) -> None:
    assert tomllib.loads(f"key = {toml_string(value)}\n") == {"key": value}
