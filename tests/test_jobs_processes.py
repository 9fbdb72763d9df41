"""--jobs in forked worker processes (``jobs.py``): chosen where rendering can be
the bottleneck and the cores allow (``MODELMIG_JOBS_MODE`` forces either); the
plugins work in each worker, every line reaches the command in order, the summary
keeps the connections' order and a failed connection fails alone."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from modelmig_core import jobs

MODELS = """
class Tenant(Model):
    table = "tenants"
    schema = {"id": column("increments"), "name": column("string", 100)}
"""

# a plugin that notes the process each migration was applied in
WHERE = """
import json, os
from pathlib import Path

from modelmig_core.api import hookimpl

LOG = Path(__file__).with_name("where.jsonl")


@hookimpl(wrapper=True)
def apply(session, migration):
    result = yield
    with LOG.open("a") as f:
        f.write(json.dumps([session.url, os.getpid(), os.getppid()]) + "\\n")
    return result
"""


def fleet(make_project: Any, count: int, broken: bool = False) -> Any:
    conns = {f"t{i}": {"url": f"sqlite:///tenant{i}.sqlite3"} for i in range(count)}
    if broken:
        conns["t2"] = {"url": "sqlite:///no/such/folder/t2.sqlite3"}
    p = make_project(conns, extra_config='default = "t0"\nplugins = ["where"]')
    (p.root / "where.py").write_text(WHERE)
    p.models(MODELS)
    p.ok("make:migration")
    return p


def test_processes_apply_in_several_workers_with_the_plugins_and_ordered_output(make_project: Any) -> None:
    p = fleet(make_project, 6)
    env = {"MODELMIG_JOBS_MODE": "processes", "PYTHONPATH": str(p.root)}
    result = p.sh("migrate:run", "--all-connections", "--jobs", "3", env=env)
    assert result.returncode == 0, result.stderr
    where = [json.loads(line) for line in (p.root / "where.jsonl").read_text().splitlines()]
    assert sorted(w[0] for w in where) == sorted(f"sqlite:///tenant{i}.sqlite3" for i in range(6))
    assert len({w[1] for w in where}) >= 2  # several worker processes
    assert len({w[2] for w in where}) == 1 and where[0][2] not in {w[1] for w in where}  # all forked from one command
    lines = result.stdout.splitlines()
    for i in range(6):
        mine = [line for line in lines if line.startswith(f"t{i}: ")]
        assert [re.sub(r" \(\d+ ms\)", "", x).split(" ")[1] for x in mine] == ["applying", "applied"], mine
    summary = lines[lines.index("summary:") + 1 :]
    assert [line.split()[0] for line in summary] == [f"t{i}" for i in range(6)]
    status = json.loads(p.sh("migrate:status", "--all-connections", "--json", env=env).stdout)
    assert all(c["migrations"][0]["status"] == "applied" for c in status["connections"])


def test_a_failed_connection_fails_alone_in_processes(make_project: Any) -> None:
    p = fleet(make_project, 5, broken=True)
    env = {"MODELMIG_JOBS_MODE": "processes", "PYTHONPATH": str(p.root)}
    result = p.sh("migrate:run", "--all-connections", "--jobs", "2", "--json", env=env)
    assert result.returncode == 1
    document = json.loads(result.stdout)
    by_name = {c["connection"]: c for c in document["connections"]}
    assert [c["connection"] for c in document["connections"]] == [f"t{i}" for i in range(5)]
    assert not by_name["t2"]["ok"] and "does not exist" in by_name["t2"]["error"]
    assert all(by_name[f"t{i}"]["ok"] and len(by_name[f"t{i}"]["applied"]) == 1 for i in (0, 1, 3, 4))


@pytest.mark.parametrize(
    ("cores", "render", "mode", "expected"),
    [
        (8, True, "auto", True),  # rendering, cores to spare: processes
        (2, True, "auto", False),  # two cores: threads (the servers are the bottleneck)
        (8, False, "auto", False),  # status reads ledgers only: threads
        (2, False, "processes", True),
        (8, True, "threads", False),
    ],
)
def test_the_choice_between_processes_and_threads(
    monkeypatch: pytest.MonkeyPatch, cores: int, render: bool, mode: str, expected: bool
) -> None:
    monkeypatch.setattr(jobs, "usable_cores", lambda: cores)
    monkeypatch.setenv("MODELMIG_JOBS_MODE", mode)
    assert jobs.wanted(4, 10, render) is expected
    assert jobs.wanted(1, 10, render) is False  # one job: no pool at all
