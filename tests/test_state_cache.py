"""The replay cache (statecache.py): an unchanged history is not replayed again,
the cache gives exactly the replay's state, any change to any file misses it,
and a corrupt or foreign cache is ignored, never trusted or executed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modelmig_core.conformance.fixtures import V1, V2
from modelmig_core.history import replay as history
from modelmig_core.history import statecache
from modelmig_core.history.migrations import list_files
from modelmig_core.history.replay import head, replay
from modelmig_core.schema.state import State


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the migration modules loaded."""
    seen: list[str] = []
    real = history.load

    def spy(f: Any) -> Any:
        seen.append(f.id)
        return real(f)

    monkeypatch.setattr(history, "load", spy)
    return seen


#: make:migration alone opens no server; PostgreSQL keeps V1's column comments (SQLite refuses them)
NEVER_OPENED = {"main": {"url": "postgresql://postgres@127.0.0.1:1/never_opened"}}


def chain(make_project: Any) -> Any:
    p = make_project(NEVER_OPENED)
    p.models(V1)
    p.ok("make:migration", "--name", "create_blog")
    p.models(V2)
    p.ok("make:migration", "--name", "rework_blog", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    assert "No changes" in p.ok("make:migration").output  # replays the new file and caches the head
    return p


def cache_file(p: Any) -> Path:
    return p.root / "migrations" / ".modelmig-cache" / "sql.json"


def test_the_cache_gives_the_replayed_state_and_spares_the_replay(make_project: Any, loads: list[str]) -> None:
    p = chain(make_project)
    migrations = p.root / "migrations"
    replayed = replay(migrations, "sql")
    assert head(migrations, "sql", State) == (replayed.head, replayed.last_id)  # a replay, which writes the cache
    loads.clear()
    assert head(migrations, "sql", State) == (replayed.head, replayed.last_id)
    assert loads == []  # nothing loaded: served from the cache
    assert cache_file(p).exists() and (cache_file(p).parent / ".gitignore").read_text().strip().endswith("*")
    out = p.ok("make:migration").output
    assert "No changes" in out and loads == []


def test_any_change_to_any_file_misses_the_cache(make_project: Any, loads: list[str]) -> None:
    p = chain(make_project)
    first, second = p.migration_files()
    # a hand edit of the first file: the next make must see it
    first.write_text(first.read_text().replace('"legacy_code"', '"legacy_kode"'))
    loads.clear()
    result = p.run("make:migration", "--check")
    assert loads  # replayed
    assert result.exit_code != 0  # the history now disagrees with the models
    first.write_text(first.read_text().replace('"legacy_kode"', '"legacy_code"'))
    second.unlink()
    assert p.run("make:migration", "--check").exit_code == 1  # a removed file misses it too
    assert head(p.root / "migrations", "sql", State) == (
        replay(p.root / "migrations", "sql").head,
        first.stem,
    )


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps({"key": "0" * 64, "last": None}) + "\n{}",
        "FOREIGN",  # a cache of another project, with the right shape
        "SYSTEM",  # names a callable that is not a state value
        "TAMPERED",  # right key, content changed
    ],
)
def test_a_corrupt_or_foreign_cache_is_ignored(
    make_project: Any, loads: list[str], content: str, tmp_path: Path
) -> None:
    p = chain(make_project)
    migrations = p.root / "migrations"
    files = list_files(migrations, "sql")
    header_line, body = cache_file(p).read_text().split("\n", 1)
    header = json.loads(header_line)
    if content == "FOREIGN":
        other = make_project(NEVER_OPENED)
        other.models(V1.replace('"nickname"', '"nick"'))
        other.ok("make:migration", "--name", "create_blog")
        other.ok("make:migration")  # caches its head
        content = cache_file(other).read_text()
    elif content == "SYSTEM":  # a type table naming os.system, with a matching checksum
        header["types"] = ["os:system", *header["types"][1:]]
        content = json.dumps(header) + "\n" + body
    elif content == "TAMPERED":  # the body changed, the header did not
        content = header_line + "\n" + body.replace('"posts"', '"pasts"')
    cache_file(p).write_text(content)
    loads.clear()
    with pytest.raises(statecache.CacheMiss):
        statecache.load(migrations, "sql", files, State)
    assert head(migrations, "sql", State)[0] == replay(migrations, "sql").head
    assert loads  # the replay, not the cache, answered
    assert "No changes" in p.ok("make:migration").output


def test_the_document_chain_is_cached_too(make_project: Any) -> None:
    from modelmig_mongo.state import DocumentState

    p = make_project({"main": {"url": "sqlite:///app.sqlite3"}, "docs": {"url": "mongodb://localhost/x"}})
    p.models(
        'class Log(Model):\n    table = "log"\n    store = "mongo"\n'
        '    schema = {"msg": column("string", 200), "at": column("timestamp")}\n'
        '    database = {"indexes": [index("at", expire_after_seconds=60)]}\n'
    )
    p.ok("make:migration")
    assert "No changes" in p.ok("make:migration").output  # replays both chains and caches their heads
    migrations = p.root / "migrations"
    files = list_files(migrations, "document")
    state, last = statecache.load(migrations, "document", files, DocumentState)
    assert state == replay(migrations, "document", DocumentState).head and last == files[-1].id


def test_equal_values_are_stored_once_and_decoded_equal_but_kept_apart_by_type(tmp_path: Path) -> None:
    """The cache writes a value equal to one before it as a reference (an ``id``
    column of many tables once), yet never merges values ``==`` confuses."""
    from modelmig_core.schema.state import Column, Table

    def table(name: str, default: Any) -> Table:
        return Table(name, (Column("id", "integer", primary=True), Column("n", "float", default=default)))

    head = State({"a": table("a", 1), "b": table("b", 1.0), "c": table("c", True), "d": table("d", 1)})
    names: list[str] = []
    body = json.dumps(statecache.encode(head, {}, names, {}))
    ref = json.dumps(statecache.REF)  # the marker as JSON writes it
    assert body.count(ref) == 4  # b, c and d's id column, and d's n column (a's again)
    back = statecache.decode(body, names, State)
    assert back == head
    defaults = [type(back.tables[t].columns[1].default) for t in "abcd"]
    assert defaults == [int, float, bool, int]
    assert back.tables["a"].columns[0] is back.tables["b"].columns[0]  # decoded once, shared
    with pytest.raises(statecache.CacheMiss):  # a reference to nothing is a miss, not a crash
        statecache.decode(body.replace(f"{ref}: 0", f"{ref}: 999"), names, State)
