"""Plugins that cannot break each other (issue 21): one plugin from two sources is
one plugin; a broken plugin is listed with its cause and leaves every command that
does not need it working, except that one which may veto applying or dropping
(``apply``, ``before_destructive``) makes the migrate commands that apply, drop or
mark refuse to run; a URL scheme two distributions declare is an error naming both,
found from metadata without importing either; and the hooks are told where they
run (``context``: the connection's name and driver).

Fake distributions are a dist-info folder on PYTHONPATH with entry_points.txt, as
in tests/test_driver_api_version.py; every case runs the installed CLI."""

from __future__ import annotations

import importlib.metadata
import json
import sqlite3
import textwrap
from pathlib import Path
from typing import Any

from modelmig_core.api import HookContext
from tests.test_drivers_command import modelmig

MODELS = """
class Owner(Model):
    table = "owners"
    schema = {"id": column("increments"), "name": column("string", 50)}
"""

SQLITE_VERSION = importlib.metadata.version("modelmig-sqlite")
DUCKDB_VERSION = importlib.metadata.version("modelmig-duckdb")

#: records every hook call with its context, one JSON line per call, in $HOOK_LOG
RECORDER = """
import json, os
from modelmig_core.api import hookimpl


def _log(**fields):
    with open(os.environ["HOOK_LOG"], "a", encoding="utf-8") as f:
        f.write(json.dumps(fields) + "\\n")


@hookimpl(wrapper=True)
def apply(migration, direction, context):
    _log(hook="apply", id=migration.id, direction=direction, connection=context.connection,
         driver=context.driver, test=context.test)
    return (yield)


@hookimpl
def record_state(migration, direction, context):
    _log(hook="record_state", id=migration.id, direction=direction, connection=context.connection,
         driver=context.driver, test=context.test)


@hookimpl
def before_destructive(command, context):
    _log(hook="before_destructive", command=command, connection=context.connection, driver=context.driver)
"""


def distribution(site: Path, dist: str, version: str, entry_points: str, modules: dict[str, str]) -> None:
    """A distribution ``dist version`` on ``site`` with these modules and entry points."""
    for name, source in modules.items():
        (site / f"{name}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


def error_lines(result: Any) -> list[str]:
    return result.stderr.strip().splitlines()


def tables(path: Path) -> list[str]:
    if not path.exists():
        return []
    c = sqlite3.connect(path)
    try:
        return sorted(r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    finally:
        c.close()


def hook_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# ------------------------------------------------------------ one plugin, two sources


def test_a_plugin_named_by_an_entry_point_and_the_config_is_one_plugin(make_project: Any, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    distribution(site, "audit-plugin", "1.0", "[modelmig.plugins]\naudit = auditplug\n", {"auditplug": RECORDER})
    log = tmp_path / "hooks.jsonl"
    env = {"PYTHONPATH": str(site), "HOOK_LOG": str(log)}
    p = make_project({"main": {"url": "sqlite:///app.sqlite3"}}, extra_config='plugins = ["auditplug"]')
    p.models(MODELS)
    made = p.sh("make:migration", env=env)
    assert made.returncode == 0, made.stderr
    ran = p.sh("migrate:run", env=env)
    assert ran.returncode == 0, ran.stderr
    assert "already registered" not in ran.stderr
    mid = p.migration_files()[0].stem
    # registered once: each hook ran once, not twice
    assert [(e["hook"], e["id"]) for e in hook_log(log)] == [("apply", mid), ("record_state", mid)]
    listed = modelmig("drivers", cwd=p.root, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "plugin auditplug  ok  (entry point audit of audit-plugin 1.0; config plugins)" in listed.stdout
    plugins = json.loads(modelmig("drivers", "--json", cwd=p.root, env=env).stdout)["plugins"]
    assert plugins == [
        {
            "name": "auditplug",
            "sources": ["entry point audit of audit-plugin 1.0", "config plugins"],
            "status": "ok",
            "cause": None,
            "hooks": ["apply", "before_destructive", "record_state"],
        }
    ]


def test_the_same_object_named_two_ways_is_one_plugin(make_project: Any, tmp_path: Path) -> None:
    """``auditplug`` and ``auditplug_alias:plugin`` (the same module object) run once."""
    log = tmp_path / "hooks.jsonl"
    p = make_project({"main": {"url": "sqlite:///app.sqlite3"}}, extra_config='plugins = ["auditplug", "alias:plug"]')
    (p.root / "auditplug.py").write_text(RECORDER)
    (p.root / "alias.py").write_text("import auditplug as plug\n")
    p.models(MODELS)
    assert p.sh("make:migration").returncode == 0
    ran = p.sh("migrate:run", env={"HOOK_LOG": str(log)})
    assert ran.returncode == 0, ran.stderr
    assert [e["hook"] for e in hook_log(log)] == ["apply", "record_state"]


# ------------------------------------------------------------ hooks know where they run


def test_hooks_are_told_the_connection_and_driver_they_run_for(make_project: Any, tmp_path: Path) -> None:
    log = tmp_path / "hooks.jsonl"
    p = make_project(
        {"main": {"url": "sqlite:///app.sqlite3"}, "analytics": {"url": "duckdb:///a.duckdb"}},
        extra_config='plugins = ["auditplug"]',
    )
    (p.root / "auditplug.py").write_text(RECORDER)
    p.models(MODELS)
    env = {"HOOK_LOG": str(log)}
    assert p.sh("make:migration", env=env).returncode == 0
    mid = p.migration_files()[0].stem
    for name in ("main", "analytics"):
        ran = p.sh("migrate:run", "--connection", name, env=env)
        assert ran.returncode == 0, ran.stderr
    back = p.sh("migrate:rollback", "--connection", "analytics", "--force", "--yes", env=env)
    assert back.returncode == 0, back.stderr
    seen = [(e["hook"], e.get("id") or e.get("command"), e["connection"], e["driver"]) for e in hook_log(log)]
    assert seen == [
        ("apply", mid, "main", "sqlite"),
        ("record_state", mid, "main", "sqlite"),
        ("apply", mid, "analytics", "duckdb"),
        ("record_state", mid, "analytics", "duckdb"),
        ("before_destructive", "migrate:rollback", "analytics", "duckdb"),
        ("apply", mid, "analytics", "duckdb"),
        ("record_state", mid, "analytics", "duckdb"),
    ]
    assert {e["test"] for e in hook_log(log) if "test" in e} == {False}


def test_hook_context_is_a_small_frozen_value() -> None:
    context = HookContext("main", "pg", test=True)
    assert (context.connection, context.driver, context.test) == ("main", "pg", True)
    assert HookContext("main", "pg") == HookContext("main", "pg", False)
    try:
        context.connection = "other"  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("HookContext must be frozen")


# ------------------------------------------------------------ URL scheme conflicts


def test_two_distributions_declaring_one_scheme_is_an_error_naming_both(make_project: Any, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    marker = tmp_path / "imported"
    distribution(
        site,
        "evil-sqlite",
        "6.6",
        "[modelmig.drivers]\nevil = evilpkg:driver\n\n[modelmig.schemes]\nsqlite = evilpkg:driver\n",
        {"evilpkg": f"open({str(marker)!r}, 'w').close()\ndriver = None\n"},
    )
    env = {"PYTHONPATH": str(site)}
    p = make_project({"main": {"url": "sqlite:///app.sqlite3"}})
    p.models(MODELS)
    status = p.sh("migrate:status", env=env)
    assert status.returncode == 2
    assert error_lines(status) == [
        f"error: URL scheme 'sqlite' is declared by 2 distributions: evil-sqlite 6.6 and modelmig-sqlite "
        f"{SQLITE_VERSION} (entry-point group modelmig.schemes); uninstall one, or name the driver of the "
        "connection (driver = ...)"
    ]
    assert p.sh("migrate:run", env=env).returncode == 2
    assert not marker.exists()  # found from metadata: neither distribution was imported
    assert not (p.root / "app.sqlite3").exists()
    listed = modelmig("drivers", cwd=p.root, env=env)
    assert f"scheme sqlite  conflict  (declared by evil-sqlite 6.6 and modelmig-sqlite {SQLITE_VERSION})" in (
        listed.stdout
    )
    conflicts = json.loads(modelmig("drivers", "--json", cwd=p.root, env=env).stdout)["scheme_conflicts"]
    assert conflicts == {"sqlite": ["evil-sqlite 6.6", f"modelmig-sqlite {SQLITE_VERSION}"]}
    # a connection that names its driver does not depend on the scheme
    p.connections = {"main": {"url": "sqlite:///app.sqlite3", "driver": "sqlite"}}
    p.write_config()
    assert p.sh("make:migration", env=env).returncode == 0
    ran = p.sh("migrate:run", env=env)
    assert ran.returncode == 0, ran.stderr
    assert "owners" in tables(p.root / "app.sqlite3")
    # another scheme is not affected
    p.connections = {"ducks": {"url": "duckdb:///d.duckdb"}}
    p.write_config()
    assert p.sh("migrate:status", env=env).returncode == 0


def test_two_distributions_declaring_one_driver_name_is_an_error_naming_both(make_project: Any, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    marker = tmp_path / "imported"
    distribution(
        site,
        "other-sqlite",
        "2.0",
        "[modelmig.drivers]\nsqlite = othersqlite:driver\n",
        {"othersqlite": f"open({str(marker)!r}, 'w').close()\ndriver = None\n"},
    )
    p = make_project({"main": {"url": "sqlite:///app.sqlite3", "driver": "sqlite"}})
    status = p.sh("migrate:status", env={"PYTHONPATH": str(site)})
    assert status.returncode == 2
    assert error_lines(status) == [
        f"error: driver name 'sqlite' is declared by 2 distributions: modelmig-sqlite {SQLITE_VERSION} and "
        "other-sqlite 2.0 (entry-point group modelmig.drivers); uninstall one"
    ]
    assert not marker.exists()


# ------------------------------------------------------------ broken plugins


def _broken_import_project(make_project: Any, tmp_path: Path) -> tuple[Any, dict[str, str]]:
    site = tmp_path / "site"
    site.mkdir()
    distribution(
        site,
        "policy-plugin",
        "2.0",
        "[modelmig.plugins]\npolicy = policyplug\n",
        {"policyplug": "import policy_client_that_is_not_installed\n"},
    )
    p = make_project({"main": {"url": "sqlite:///app.sqlite3"}})
    p.models(MODELS)
    return p, {"PYTHONPATH": str(site)}


BROKEN_IMPORT = (
    "plugin 'policyplug' (entry point policy of policy-plugin 2.0) is broken (ModuleNotFoundError: No module "
    "named 'policy_client_that_is_not_installed')"
)


def refusal(command: str, plugin: str) -> str:
    return (
        f"error: {command} refuses to run: {plugin} and may veto applying or dropping (apply, before_destructive); "
        "fix or uninstall it (modelmig drivers lists it)"
    )


def test_a_plugin_whose_import_raises_is_listed_and_other_commands_work(make_project: Any, tmp_path: Path) -> None:
    p, env = _broken_import_project(make_project, tmp_path)
    listed = modelmig("drivers", cwd=p.root, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "sqlite  ok" in listed.stdout
    assert "plugin policyplug  broken  (entry point policy of policy-plugin 2.0)" in listed.stdout
    assert "  cause: ModuleNotFoundError: No module named 'policy_client_that_is_not_installed'" in listed.stdout
    assert "  blocks: migrate:run, rollback, reset, fresh, resolve, baseline (it may veto them)" in listed.stdout
    (entry,) = json.loads(modelmig("drivers", "--json", cwd=p.root, env=env).stdout)["plugins"]
    assert entry["status"] == "broken" and entry["hooks"] is None
    assert entry["cause"] == "ModuleNotFoundError: No module named 'policy_client_that_is_not_installed'"
    made = p.sh("make:migration", env=env)
    assert made.returncode == 0, made.stderr
    assert p.sh("make:migration", "--check", env=env).returncode == 0
    status = p.sh("migrate:status", env=env)
    assert status.returncode == 0, status.stderr
    pretend = p.sh("migrate:run", "--pretend", env=env)
    assert pretend.returncode == 0, pretend.stderr


def test_a_plugin_whose_import_raises_fails_closed_for_migrate(make_project: Any, tmp_path: Path) -> None:
    """It cannot be inspected: it may have vetoed, so nothing is applied or dropped."""
    p, env = _broken_import_project(make_project, tmp_path)
    assert p.sh("make:migration", env=env).returncode == 0
    ran = p.sh("migrate:run", env=env)
    assert ran.returncode == 2
    assert error_lines(ran) == [refusal("migrate:run", BROKEN_IMPORT)]
    assert "owners" not in tables(p.root / "app.sqlite3")
    fresh = p.sh("migrate:fresh", "--force", "--yes", env=env)
    assert fresh.returncode == 2
    assert error_lines(fresh) == [refusal("migrate:fresh", BROKEN_IMPORT)]
    # applied without the plugin, then rolled back with it: refused too
    assert p.sh("migrate:run").returncode == 0
    for args in (["migrate:rollback", "--force", "--yes"], ["migrate:reset", "--force", "--yes"]):
        back = p.sh(*args, env=env)
        assert back.returncode == 2
        assert error_lines(back) == [refusal(args[0], BROKEN_IMPORT)]
        assert "owners" in tables(p.root / "app.sqlite3")


MISSPELLED_AUDIT = """
from modelmig_core.api import hookimpl


@hookimpl
def record_stat(migration):
    raise RuntimeError("never called: the plugin is not registered")
"""

MISSPELLED_VETO = """
from modelmig_core.api import ModelmigError, hookimpl


@hookimpl
def before_destructiv(command):
    raise ModelmigError("no drops on Fridays")
"""

WRONG_ARGUMENT_VETO = """
from modelmig_core.api import hookimpl


@hookimpl(wrapper=True)
def apply(sesion):
    return (yield)
"""


def test_a_misspelled_hook_that_cannot_veto_is_listed_and_leaves_migrate_working(
    make_project: Any, tmp_path: Path
) -> None:
    p = make_project({"main": {"url": "sqlite:///app.sqlite3"}}, extra_config='plugins = ["auditplug"]')
    (p.root / "auditplug.py").write_text(MISSPELLED_AUDIT)
    p.models(MODELS)
    listed = modelmig("drivers", cwd=p.root)
    assert listed.returncode == 0, listed.stderr
    assert "plugin auditplug  broken  (config plugins)" in listed.stdout
    assert "  cause: 'plugin:auditplug': unknown hook 'record_stat' in plugin" in listed.stdout
    assert "blocks:" not in listed.stdout
    assert p.sh("make:migration").returncode == 0
    ran = p.sh("migrate:run")
    assert ran.returncode == 0, ran.stderr
    assert "owners" in tables(p.root / "app.sqlite3")
    back = p.sh("migrate:rollback", "--force", "--yes")
    assert back.returncode == 0, back.stderr


def test_a_broken_plugin_that_may_veto_fails_closed(make_project: Any, tmp_path: Path) -> None:
    for source, cause in (
        (MISSPELLED_VETO, "unknown hook 'before_destructiv' in plugin"),
        (WRONG_ARGUMENT_VETO, "hook 'apply'"),
    ):
        p = make_project({"main": {"url": "sqlite:///app.sqlite3"}}, extra_config='plugins = ["vetoplug"]')
        (p.root / "vetoplug.py").write_text(source)
        p.models(MODELS)
        listed = modelmig("drivers", cwd=p.root)
        assert listed.returncode == 0, listed.stderr
        assert "plugin vetoplug  broken  (config plugins)" in listed.stdout and cause in listed.stdout
        assert "  blocks: migrate:run, rollback, reset, fresh, resolve, baseline (it may veto them)" in listed.stdout
        assert p.sh("make:migration").returncode == 0
        assert p.sh("migrate:status").returncode == 0
        ran = p.sh("migrate:run")
        assert ran.returncode == 2
        (line,) = error_lines(ran)
        assert line.startswith("error: migrate:run refuses to run: plugin 'vetoplug' (config plugins) is broken (")
        assert cause in line and line.endswith(
            "and may veto applying or dropping (apply, before_destructive); fix or uninstall it "
            "(modelmig drivers lists it)"
        )
        assert "owners" not in tables(p.root / "app.sqlite3")
        baseline = p.sh("migrate:baseline")
        assert baseline.returncode == 2 and "migrate:baseline refuses to run: plugin 'vetoplug'" in baseline.stderr
