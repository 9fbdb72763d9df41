"""Issue 17, class 4: no password is ever printed.

Passwords are drawn by Hypothesis from an attacker's alphabet (``# ? / @ : % +``,
space, quotes, backslash, ``& =``, unicode) and put where users put them: raw
through the README's ``${PG_PASSWORD}`` pattern, percent-encoded in the URL, and
in ``?password=``-style query options. Each goes through the real CLI, in-process
(click's runner) and as a subprocess, on ``migrate:status``, ``migrate:status
--json``, ``migrate:run --json`` over several connections, ``drivers:check`` and
with ``MODELMIG_DEBUG=1`` (tracebacks): a failing connect to the real
PostgreSQL and MariaDB (an unknown role, a wrong password), an unreachable host,
and malformed URLs (an invalid percent-encoding, a broken IPv6 host). The
password, raw, percent-encoded and decoded, must be absent from stdout, stderr
and every string of the JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from modelmig_core import redaction
from modelmig_core.cli import cli
from modelmig_core.redaction import redact, scrub, split_url
from tests.support.servers import MYSQL_URL, PG_URL

SETTINGS = settings(
    max_examples=int(os.environ.get("MODELMIG_SECRET_EXAMPLES", "6")),  # nox -s fuzz: 60
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=os.environ.get("MODELMIG_HYPOTHESIS_PROFILE", "ci") == "ci",
)
ATTACK = "#?/@:%+ '\"\\&=;[]$éü中😀"
MIDDLE = st.text(alphabet=ATTACK + "abcXYZ019", min_size=1, max_size=14)
# the markers make every password at least 5 characters: a secret shorter than
# redaction.MIN_SECRET is masked where it sits in a URL, not searched for in text
PASSWORDS = MIDDLE.map(lambda m: f"Qv{m}7K")

MODELS = """
from modelmig_core import Model, column

class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 100)}
"""

PG_HOST = split_url(PG_URL).hosts if split_url(PG_URL) else "127.0.0.1:5432"
MYSQL_HOST = split_url(MYSQL_URL).hosts if split_url(MYSQL_URL) else "127.0.0.1:3306"


def forms(password: str) -> set[str]:
    """The password as it must never be seen: raw, percent-encoded, decoded."""
    out = {password, quote(password, safe=""), quote_plus(password), quote(password), unquote(password)}
    return {f for f in out if len(f) >= redaction.MIN_SECRET}


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def assert_absent(password: str, *texts: str) -> None:
    for text in texts:
        for form in forms(password):
            assert form not in text, (form, text)
        for line in text.splitlines():  # any JSON document printed: every string in it
            if line.startswith(("{", "[")):
                break
        else:
            continue
        start = text.find("{") if "{" in text else text.find("[")
        try:
            document = json.loads(text[start:])
        except ValueError:
            continue
        for s in strings(document):
            for form in forms(password):
                assert form not in s, (form, s)


@contextmanager
def project(connections: dict[str, str], env: dict[str, str] | None = None) -> Iterator[Path]:
    """A throwaway project (made inside the test: Hypothesis runs it many times)."""
    root = Path(tempfile.mkdtemp(prefix="mm_secret_"))
    try:
        lines = ["[tool.modelmig]", 'models = ["models"]', 'migrations = "migrations"', 'default = "main"']
        lines += ["[tool.modelmig.connections.main]", 'url = "sqlite:///app.sqlite3"']
        for name, url in connections.items():
            lines += [f"[tool.modelmig.connections.{name}]", f"url = {json.dumps(url)}"]
        (root / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (root / "models.py").write_text(MODELS)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_in_process(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    cwd = os.getcwd()
    try:
        os.chdir(root)
        result = CliRunner().invoke(cli, list(args), env=env or {}, catch_exceptions=False)
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stdout, result.stderr


def run_subprocess(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    exe = Path(sys.executable).parent / "modelmig"
    full = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    done = subprocess.run([str(exe), *args], cwd=root, env=full, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


# ---------------------------------------------------------------- the parser and the scrubber


@SETTINGS
@given(password=PASSWORDS, encoded=st.booleans(), scheme=st.sampled_from(["postgresql", "mysql", "mongodb"]))
@example(password="p@ss/w?rd#x", encoded=False, scheme="postgresql")
@example(password="Qv%zz7K", encoded=False, scheme="postgresql")
def test_redact_hides_the_password_however_it_is_written(password: str, encoded: bool, scheme: str) -> None:
    written = quote(password, safe="") if encoded else password
    for url in (
        f"{scheme}://app:{written}@db.example:5432/app?sslmode=require",
        f"{scheme}://app@db.example/app?password={quote(password, safe='')}&sslmode=require",
        f"{scheme}://app@db.example/app?sslpassword={quote(password, safe='')}",
        f"{scheme}://db.example/app?user=app&pwd={quote(password, safe='')}",
    ):
        shown = redact(url)
        assert "***" in shown
        assert_absent(password, shown)
    # the host and database stay readable where the password was percent-encoded
    assert redact(f"{scheme}://app:{quote(password, safe='')}@db.example:5432/app") == (
        f"{scheme}://app:***@db.example:5432/app"
    )


@SETTINGS
@given(password=PASSWORDS)
def test_scrub_finds_a_remembered_password_in_any_form(password: str) -> None:
    redaction.forget()
    redaction.remember(password)
    for form in forms(password) | {repr(password)[1:-1], json.dumps(password)[1:-1]}:
        message = f'connection failed: invalid token "{form}" near {form!r}'
        assert_absent(password, scrub(message))
    redaction.forget()


def test_the_pieces_a_misreading_parser_reports_are_scrubbed() -> None:
    # a raw '/' in a password: urlsplit (and libpq) read what follows as the path
    url = "mongodb://u:ab/SECRETX@127.0.0.1/x"
    redaction.forget()
    assert redact(url) == "mongodb://u:***@127.0.0.1/x"
    assert scrub("'SECRETX@127.0.0.1/x' is not a valid MongoDB database name") == (
        "'***@127.0.0.1/x' is not a valid MongoDB database name"
    )
    # a password that is not a URL's but an option's, after '?': the standard reading
    assert redact("postgresql://h/db?password=p@ssw0rd") == "postgresql://h/db?password=***"
    # no password: unchanged
    for url in ("sqlite:///app.sqlite3", "sqlite:///x@y.db", "postgresql://app@h/db?sslmode=require"):
        assert redact(url) == url
    redaction.forget()


def test_an_interpolated_password_is_known_even_when_it_moves_the_url_structure(monkeypatch: Any) -> None:
    from modelmig_core.config import _deferred

    monkeypatch.setenv("PW_UNDER_TEST", "a&b=c#d?e")
    redaction.forget()
    _deferred("postgresql://app@h/db?password=${PW_UNDER_TEST}&sslmode=require", "test")
    assert scrub("the server said: a&b=c#d?e is wrong") == "the server said: *** is wrong"
    redaction.forget()


# ---------------------------------------------------------------- the real CLI, in-process


def _connections(password: str) -> dict[str, str]:
    pw = quote(password, safe="")
    return {
        # the README's pattern: the raw password from the environment
        "raw": "postgresql://app:${MM_SECRET_PW}@127.0.0.1:1/nowhere",
        # percent-encoded, and as query options
        "enc": f"postgresql://app:{pw}@127.0.0.1:1/nowhere?sslmode=disable",
        "query": f"postgresql://app@127.0.0.1:1/nowhere?password={pw}&sslmode=disable",
        "rawquery": "postgresql://app@127.0.0.1:1/nowhere?password=${MM_SECRET_PW}",
        # the real servers: an unknown role (PostgreSQL trusts), a wrong password (MariaDB)
        "pgreal": f"postgresql://mm_no_such_role:{pw}@{PG_HOST}/postgres",
        "myreal": f"mysql://root:{pw}@{MYSQL_HOST}/mysql",
        "myraw": f"mysql://root:${{MM_SECRET_PW}}@{MYSQL_HOST}/mysql",
        # malformed: a broken IPv6 host, an invalid percent-encoding
        "ipv6": "postgresql://app:${MM_SECRET_PW}@[::1/nowhere",
        "pct": f"postgresql://app:{pw}%zz@127.0.0.1:1/nowhere",
        "mongo": "mongodb://app:${MM_SECRET_PW}@127.0.0.1:9/app?serverSelectionTimeoutMS=200&connectTimeoutMS=200",
    }


@SETTINGS
@given(password=PASSWORDS)
@example(password="p#ss?wo/rd")
@example(password="Qv\\\"'é中%41%zz 7K")
def test_no_output_of_the_cli_shows_the_password_in_process(password: str) -> None:
    connections = _connections(password)
    env = {"MM_SECRET_PW": password, "NO_COLOR": "1"}
    with project(connections) as root:
        assert run_in_process(root, "make:migration", env=env)[0] == 0
        texts = []
        for name in connections:
            code, out, err = run_in_process(root, "migrate:status", "--connection", name, env=env)
            assert code != 0 and err.startswith("error: "), (name, out, err)
            texts += [out, err]
            code, out, err = run_in_process(root, "migrate:status", "--json", "--connection", name, env=env)
            texts += [out, err]
        debug = {**env, "MODELMIG_DEBUG": "1"}
        code, out, err = run_in_process(root, "migrate:run", "--all-connections", "--json", env=debug)
        assert code != 0 and json.loads(out)["ok"] is False
        assert "Traceback" in err  # the tracebacks are printed, scrubbed
        texts += [out, err]
        code, out, err = run_in_process(root, "migrate:status", "--connection", "pgreal", env=debug)
        assert code != 0 and "Traceback" in err
        texts += [out, err]
        for url in (connections["enc"], connections["pgreal"], connections["pct"]):
            code, out, err = run_in_process(root, "drivers:check", url, env=env)
            assert code != 0
            texts += [out, err]
        assert_absent(password, *texts)


def test_the_json_of_a_failed_run_names_the_error_without_the_password(make_project: Any) -> None:
    password = 'Zx"\\é#/?@x9'
    p = make_project(
        {"main": {"url": "sqlite:///app.sqlite3"}, "remote": {"url": "postgresql://app:${MM_PW}@127.0.0.1:1/nowhere"}},
        extra_config='default = "main"',
    )
    p.env = {"MM_PW": password}
    p.models(MODELS)
    p.ok("make:migration")
    result = p.run("migrate:run", "--all-connections", "--json")
    report = json.loads(result.stdout)
    [remote] = [c for c in report["connections"] if c["connection"] == "remote"]
    assert remote["url"] == "postgresql://app:***@127.0.0.1:1/nowhere"
    assert remote["error"].startswith("cannot connect to postgresql://app:***@127.0.0.1:1/nowhere")
    assert_absent(password, result.stdout, result.stderr)


def test_mariadb_refuses_a_wrong_password_and_the_error_hides_it(make_project: Any, mysql_db: Any) -> None:
    password = "Wr0ng#?/pw"
    host = split_url(mysql_db.url).hosts
    p = make_project({"main": {"url": f"mysql://root:${{MM_PW}}@{host}/{mysql_db.name}"}})
    p.env = {"MM_PW": quote(password, safe="")}  # PyMySQL's URL reading needs it percent-encoded
    p.models(MODELS)
    result = p.run("migrate:status")
    assert result.exit_code != 0
    [line] = [x for x in result.stderr.splitlines() if x.strip()]
    assert line.startswith(f"error: cannot connect to mysql://root:***@{host}/{mysql_db.name}: ")
    assert "Access denied" in line
    assert_absent(password, result.output)


# ---------------------------------------------------------------- the installed command, in a subprocess


@settings(SETTINGS, max_examples=max(3, SETTINGS.max_examples // 5))
@given(password=PASSWORDS)
@example(password="p#ss?wo/rd")
def test_no_output_of_the_command_shows_the_password_in_a_subprocess(password: str) -> None:
    connections = _connections(password)
    env = {"MM_SECRET_PW": password, "NO_COLOR": "1"}
    with project(connections) as root:
        texts = []
        code, out, err = run_subprocess(root, "migrate:status", "--all-connections", "--json", env=env)
        assert code != 0
        texts += [out, err]
        code, out, err = run_subprocess(
            root, "migrate:run", "--all-connections", "--json", env={**env, "MODELMIG_DEBUG": "1"}
        )
        assert code != 0 and "Traceback" in err
        texts += [out, err]
        for name in ("raw", "myraw", "ipv6", "mongo"):
            code, out, err = run_subprocess(root, "migrate:status", "--connection", name, env=env)
            assert code != 0 and err.startswith("error: ")
            texts += [out, err]
        code, out, err = run_subprocess(root, "drivers:check", connections["pgreal"], env=env)
        assert code != 0
        texts += [out, err]
        assert_absent(password, *texts)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:%s@127.0.0.1:1/db",
        "postgresql://app@127.0.0.1:1/db?password=%s",
        "mysql://root:%s@127.0.0.1:1/db",
        "mongodb://app:%s@127.0.0.1:9/db?serverSelectionTimeoutMS=200",
    ],
)
def test_the_mongo_no_server_line_and_every_connect_error_is_one_short_line(url: str, make_project: Any) -> None:
    password = "S3cr#t/pw"
    p = make_project({"main": {"url": url % quote(password, safe="")}})
    p.models(MODELS)
    result = p.run("migrate:status")
    [line] = [x for x in result.stderr.splitlines() if x.strip()]
    assert result.exit_code != 0 and line.startswith("error: ") and len(line) < 300, line
    assert "127.0.0.1" in line and "Topology" not in line
    assert_absent(password, result.output)
