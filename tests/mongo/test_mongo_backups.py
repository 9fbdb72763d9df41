"""Issue 17, class 10 on MongoDB (mongomock): a backup's files are named from the
collection names safely (a collection may be called ``/tmp/evil``), its counts are
keyed by (database, collection) and are those of the documents the server sent,
and a backup whose read-back disagrees is refused and removed."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from bson import json_util
from conftest import Backend
from modelmig_mongo.driver import backup_file, driver

from modelmig_core.errors import MigrationFailed
from modelmig_core.run.backup import backup_before_drop

#: pymongo refuses ".." and a leading or trailing dot; "/" and "\\" are allowed
NAMES = ["/tmp/evil", "x/./y/", "a/b", "a\\b", "%2F", "_collections", "plain", "é x;#*/", "-"]


def production(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setenv("MODELMIG_BACKUP", "always")
    monkeypatch.setenv("MODELMIG_BACKUP_DIR", str(folder))


def seed(backend: Backend) -> dict[str, int]:
    db = backend.client(backend.url).get_database(backend.dbname)
    counts = {}
    for i, name in enumerate(NAMES):
        db[name].insert_many([{"n": j, "note": f"{name}\n{j}"} for j in range(i + 1)])
        counts[name] = i + 1
    return counts


def test_mongo_backup_files_stay_in_the_folder_and_count_per_collection(
    mock_backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "inner" / "bk"
    production(monkeypatch, folder)
    counts = seed(mock_backend)
    said: list[str] = []
    with driver.connect(mock_backend.url) as session:
        path = backup_before_drop("migrate:fresh", session, SimpleNamespace(name="../docs"), said.append)
    assert path is not None and path.parent == folder.resolve() and path.name.startswith("docs-")
    assert sorted(p.name for p in (tmp_path / "inner").iterdir()) == ["bk"]
    assert [p.name for p in folder.iterdir()] == [path.name]  # no scratch folder left
    assert f"{len(NAMES)} table(s), {sum(counts.values())} row(s)" in said[0]
    meta = json_util.loads((path / "_collections.json").read_text())
    files = sorted(p.name for p in path.iterdir())
    assert files == sorted(["_collections.json", *(backup_file(n) for n in NAMES)])
    for name, n in counts.items():
        assert meta[name]["file"] == backup_file(name)
        docs = [json_util.loads(line) for line in (path / meta[name]["file"]).read_text().splitlines()]
        assert sorted(d["note"] for d in docs) == sorted(f"{name}\n{j}" for j in range(n))


def test_mongo_backup_counts_are_keyed_by_database_and_collection(mock_backend: Backend, tmp_path: Path) -> None:
    counts = seed(mock_backend)
    with driver.connect(mock_backend.url) as session:
        backup = driver.backup(session, tmp_path, "label")
    expected = {(mock_backend.dbname, name): n for name, n in counts.items()}
    assert backup.rows == expected and backup.live == expected


def test_a_mongo_backup_whose_read_back_is_short_is_refused_and_removed(
    mock_backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "bk"
    production(monkeypatch, folder)
    seed(mock_backend)
    real = json_util.loads
    lines = iter(range(10_000))

    def lossy(text: str, *args: Any, **kwargs: Any) -> Any:  # the 3rd document read back is unreadable
        return None if next(lines) == 2 else real(text, *args, **kwargs)

    monkeypatch.setattr(json_util, "loads", lossy)
    with driver.connect(mock_backend.url) as session, pytest.raises(MigrationFailed, match="does not verify"):
        backup_before_drop("migrate:fresh", session, SimpleNamespace(name="docs"), print)
    assert list(folder.iterdir()) == []
