"""make:migration's memo of "no changes" (history/nochange.py): a make on models and
migrations that agreed last time answers without compiling, replaying or diffing;
anything its answer depends on (a model's value, the environment a model reads, a
migration file, the config, the drivers) misses it; an edited memo, a model it
cannot key, ``--check`` and ``MODELMIG_NO_CACHE`` never trust it; and make without
a change imports neither SQLAlchemy nor the compiler."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modelmig_core import make as make_module
from modelmig_core.app import open_app
from modelmig_core.history import nochange

POSTS = """
class Post(Model):
    table = "posts"
    schema = {"id": column("increments"), "title": column("string", 200)}
"""

#: the title's length comes from the environment the models are imported in
FROM_ENV = """
import os

class Post(Model):
    table = "posts"
    schema = {"id": column("increments"), "title": column("string", int(os.environ.get("TITLE_LENGTH", "200")))}
"""

#: a model holding an object the memo cannot key
OPAQUE = """
class Helper:
    pass

class Post(Model):
    table = "posts"
    helper = Helper()
    schema = {"id": column("increments"), "title": column("string", 200)}
"""

#: a model with a method (a comprehension in it is a code object of its own)
WITH_METHOD = """
class Post(Model):
    table = "posts"
    schema = {"id": column("increments"), "title": column("string", 200)}

    def titles(self, rows=()):
        return [r["title"] for r in rows]
"""

INET = """
class Host(Model):
    table = "hosts"
    schema = {"id": column("increments"), "address": column("inet")}
"""

NEVER_OPENED = {"main": {"url": "postgresql://postgres@127.0.0.1:1/never_opened"}}


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per make that compiled the models (``desired_states``)."""
    seen: list[int] = []
    real = make_module.desired_states

    def spy(*args: Any, **kw: Any) -> Any:
        seen.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(make_module, "desired_states", spy)
    return seen


def memo_file(p: Any) -> Path:
    return p.root / "migrations" / ".modelmig-cache" / "nochange.json"


def agreed(make_project: Any, source: str = POSTS, connections: Any = None) -> Any:
    p = make_project(connections)
    p.models(source)
    p.ok("make:migration", "--name", "create_posts")
    assert "No changes" in p.ok("make:migration").output  # compiles, finds no change, writes the memo
    assert memo_file(p).exists()
    return p


def test_no_change_is_answered_from_the_memo(make_project: Any, compiled: list[int]) -> None:
    p = agreed(make_project)
    compiled.clear()
    assert "No changes" in p.ok("make:migration").output
    assert compiled == []


def test_a_changed_model_misses_the_memo(make_project: Any, compiled: list[int]) -> None:
    p = agreed(make_project)
    p.models(POSTS.replace("200", "250"))
    out = p.ok("make:migration", "--name", "longer_title", env={"MODELMIG_NOW": "2026-01-02T00:00:00"}).output
    assert "Created" in out and compiled
    assert len(p.migration_files()) == 2


def test_a_value_read_from_the_environment_misses_the_memo(make_project: Any) -> None:
    p = agreed(make_project, FROM_ENV)
    later = {"TITLE_LENGTH": "300", "MODELMIG_NOW": "2026-01-02T00:00:00"}
    assert "Created" in p.ok("make:migration", "--name", "longer_title", env=later).output


def test_an_edited_or_removed_migration_file_misses_the_memo(make_project: Any) -> None:
    p = agreed(make_project)
    (first,) = p.migration_files()
    first.write_text(first.read_text().replace("length=200", "length=150"))
    out = p.ok("make:migration", "--name", "fix_title", env={"MODELMIG_NOW": "2026-01-02T00:00:00"}).output
    assert "Created" in out  # the history now says 150: the models' 200 is a change
    for f in p.migration_files():
        f.unlink()
    assert "Created" in p.ok("make:migration", "--name", "again").output


def test_a_new_connection_whose_driver_refuses_a_type_misses_the_memo(make_project: Any) -> None:
    p = agreed(make_project, INET, NEVER_OPENED)
    p.connections = {**NEVER_OPENED, "local": {"url": "sqlite:///local.sqlite3"}}
    p.write_config()
    result = p.run("make:migration")
    assert result.exit_code != 0 and "inet" in result.output and "sqlite" in result.output


def test_an_edited_memo_is_a_miss_never_trusted(make_project: Any, compiled: list[int]) -> None:
    p = agreed(make_project)
    memo_file(p).write_text(json.dumps({"format": nochange.FORMAT, "key": "0" * 64}))
    compiled.clear()
    p.ok("make:migration")
    assert compiled  # compiled and diffed
    memo_file(p).write_text("{not json")
    compiled.clear()
    p.ok("make:migration")
    assert compiled


def test_a_model_with_methods_is_memoized_by_their_code(make_project: Any, compiled: list[int]) -> None:
    p = agreed(make_project, WITH_METHOD)
    compiled.clear()
    assert "No changes" in p.ok("make:migration").output
    assert compiled == []  # the same code: the memo answers
    p.models(WITH_METHOD.replace('r["title"]', 'r["name"]'))
    assert "No changes" in p.ok("make:migration").output
    assert compiled  # another method body: a miss (the models compile and agree)


def test_a_model_it_cannot_key_is_never_memoized(make_project: Any, compiled: list[int]) -> None:
    p = make_project()
    p.models(OPAQUE)
    p.ok("make:migration", "--name", "create_posts")
    p.ok("make:migration")
    assert not memo_file(p).exists()
    compiled.clear()
    assert "No changes" in p.ok("make:migration").output
    assert compiled


def test_check_and_no_cache_do_not_use_the_memo(make_project: Any, compiled: list[int]) -> None:
    p = agreed(make_project)
    p.models(POSTS.replace("200", "250"))
    # a memo claiming the changed models agree with the files (as if written under their key)
    config, plugins = open_app(p.root / "pyproject.toml")
    _, key, _ = nochange.known(config, plugins)
    assert key is not None
    memo_file(p).write_text(json.dumps({"format": nochange.FORMAT, "key": key}))
    result = p.run("make:migration", "--check")
    assert result.exit_code == 1 and "differ" in result.output  # --check compiles and diffs
    compiled.clear()
    result = p.run("make:migration", "--name", "longer_title", env={"MODELMIG_NO_CACHE": "1"})
    assert result.exit_code == 0 and "Created" in result.output and compiled


PROBE = """
import json, sys
from modelmig_core.cli import cli
try:
    cli(["make:migration"], prog_name="modelmig")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "sqlglot")
               or m in ("modelmig_core.model.compile", "modelmig_core.schema.diff", "modelmig_core.make"))
print("PROBE " + json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def test_make_without_a_change_imports_no_sqlalchemy_and_no_compiler(make_project: Any) -> None:
    p = agreed(make_project)
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=p.root, capture_output=True, text=True)
    line = next(x for x in result.stderr.splitlines() if x.startswith("PROBE "))
    seen = json.loads(line[len("PROBE ") :])
    assert seen == {"code": 0, "heavy": []}


def test_first_make_imports_no_sqlalchemy(make_project: Any) -> None:
    """make needs no database and no renderer: the drivers declare the types and
    operations their renderers have (checked against the renderers in test_declared_renderer_tables.py)."""
    p = make_project({**NEVER_OPENED, "local": {"url": "sqlite:///local.sqlite3"}})
    p.models(POSTS)
    probe = PROBE.replace('["make:migration"]', '["make:migration", "--name", "create_posts"]')
    result = subprocess.run([sys.executable, "-c", probe], cwd=p.root, capture_output=True, text=True)
    line = next(x for x in result.stderr.splitlines() if x.startswith("PROBE "))
    seen = json.loads(line[len("PROBE ") :])
    assert seen["code"] == 0 and [m for m in seen["heavy"] if m.startswith(("sqlalchemy", "sqlglot"))] == []
    assert len(p.migration_files()) == 1
