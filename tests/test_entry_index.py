"""modelmig's entry points are read through importlib.metadata once per set of
installed distributions (entry_index.py): the next command reads the index and
imports no importlib.metadata; a distribution installed, on a new path or in a
folder already on the path, is found; a corrupt index is read again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelmig_core import entry_index


def distribution(site: Path, name: str, driver: str) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[modelmig.drivers]\n{driver} = {name}_driver:driver\n")


def drivers() -> set[str]:
    return {e.name for e in entry_index.installed().select("modelmig.drivers")}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))


def test_a_distribution_on_a_new_path_or_in_a_known_folder_is_found(site: Path) -> None:
    before = drivers()
    assert "sqlite" in before and "pg" in before
    assert drivers() == before  # from the index
    distribution(site, "acme", "acme")
    time.sleep(0.01)
    assert drivers() == before | {"acme"}  # the folder changed: read again
    other = site.parent / "other_site"
    other.mkdir()
    distribution(other, "zeta", "zeta")
    sys.path.insert(0, str(other))
    try:
        assert drivers() == before | {"acme", "zeta"}  # a new folder on the path
    finally:
        sys.path.remove(str(other))
    assert drivers() == before | {"acme"}


def test_a_corrupt_or_foreign_index_is_read_again(site: Path) -> None:
    expected = drivers()
    path = entry_index._path(entry_index._key())
    for text in ("{not json", json.dumps({"format": 1, "key": "0" * 64, "entries": []}), json.dumps([1, 2])):
        path.write_text(text)
        assert drivers() == expected
    key = entry_index._key()
    path.write_text(json.dumps({"format": 1, "key": key, "entries": [["x", "os:system", "not.a.group", None]]}))
    assert drivers() == expected  # an entry of another group: the whole index is refused


PROBE = """
import sys
from modelmig_core import entry_index
names = sorted(e.name for e in entry_index.installed().select("modelmig.drivers"))
print(names, "importlib.metadata" in sys.modules)
"""


def test_the_next_process_reads_the_index_without_importlib_metadata(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MODELMIG_NO_CACHE"}
    first = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True, env=env)
    second = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    names, metadata = second.stdout.strip().rsplit(" ", 1)
    assert names == first.stdout.strip().rsplit(" ", 1)[0] and "'sqlite'" in names
    assert metadata == "False"
    no_cache = {**env, "MODELMIG_NO_CACHE": "1"}
    third = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True, env=no_cache)
    assert third.stdout.strip().endswith("True")  # MODELMIG_NO_CACHE reads importlib.metadata
