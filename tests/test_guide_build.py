"""The user guide builds in strict mode with no warning, holds the pages a user
looks for, and its command reference, generated from the click definitions,
names every command and every option."""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import yaml

from modelmig_core.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def generator() -> object:
    spec = importlib.util.spec_from_file_location("cli_reference", DOCS / "hooks" / "cli_reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def every_option() -> dict[str, list[str]]:
    """Each command's name and the long and short names of its options and its arguments' metavars."""
    found: dict[str, list[str]] = {"modelmig": [o for p in cli.params for o in [*p.opts, *p.secondary_opts]]}
    for name, command in cli.commands.items():
        ctx = click.Context(command, info_name=name)
        found[name] = [
            o
            for p in command.get_params(ctx)
            for o in (
                [*p.opts, *p.secondary_opts] if isinstance(p, click.Option) else [p.make_metavar(ctx).rstrip(".")]
            )
        ]
    return found


def test_the_reference_names_every_command_and_option() -> None:
    reference: str = generator().command_reference(cli)  # type: ignore[attr-defined]
    sections = dict(re.findall(r"^## `([^`]+)`\n(.*?)(?=^## |\Z)", reference, flags=re.S | re.M))
    options = every_option()
    assert set(sections) == set(options)
    for command, names in options.items():
        for name in names:
            assert name in sections[command], f"{command}: {name} is not in its reference"
    # the help texts come through (not only the names)
    assert (cli.commands["init"].help or "").split()[0] in sections["init"]


def test_the_guide_builds_strictly_with_no_warning(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "-d",
            str(site),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    assert "WARNING" not in log, log
    page = html.unescape((site / "reference" / "index.html").read_text())
    for command, names in every_option().items():
        assert command in page
        for name in names:
            assert name in page, f"the built reference lacks {command} {name}"
    assert not (site / "hooks").exists()  # the generator is not published


def test_the_guide_has_the_pages_a_user_looks_for() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["strict"] is True and config["theme"]["name"] == "material"

    def pages(nav: list[object]) -> list[str]:
        found: list[str] = []
        for entry in nav:
            value = next(iter(entry.values())) if isinstance(entry, dict) else entry
            found += pages(value) if isinstance(value, list) else [str(value)]
        return found

    nav = pages(config["nav"])
    wanted = [
        "getting-started.md",
        "models.md",
        "commands.md",
        "configuration.md",
        "production-and-safety.md",
        "adopting-a-database.md",
        "drift-in-ci.md",
        "deploying-to-a-busy-database.md",
        "fleets.md",
        "writing-a-driver.md",
        "writing-a-plugin.md",
        "python-api.md",
        "reference.md",
    ]
    assert set(wanted) <= set(nav)
    assert sorted(nav) == sorted(p.name for p in DOCS.glob("*.md")), "every page is in the nav, and only pages"


def test_the_readme_links_every_page_of_the_guide() -> None:
    readme = (ROOT / "README.md").read_text()
    linked = set(re.findall(r"\]\((docs/[\w.-]+\.md)\)", readme))
    assert linked == {f"docs/{p.name}" for p in DOCS.glob("*.md") if p.name != "index.md"}
