"""Every package of the source tree is in its distribution's explicit package list:
a subpackage left out works in an editable install and fails in a user's
(``ModuleNotFoundError: modelmig_core.schema.diff`` on every make:migration)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = [
    ROOT,
    *sorted(p.parent for p in ROOT.glob("drivers/*/pyproject.toml")),
    *sorted(p.parent for p in ROOT.glob("plugins/*/pyproject.toml")),
]


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: str(p.relative_to(ROOT)) or ".")
def test_every_package_is_listed(project: Path) -> None:
    listed = set(tomllib.loads((project / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    tops = {name.split(".")[0] for name in listed}
    found = {
        ".".join(init.parent.relative_to(project).parts)
        for top in tops
        for init in (project / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert sorted(found - listed) == []
