"""The README's short example runs as written, in a scratch folder, with the
installed ``modelmig`` (the guide's examples are run by test_guide_examples)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_guide_examples import RUN, Scratch, blocks_in, run_block

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_short_example_runs(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    readme = (ROOT / "README.md").read_text()
    head, _, rest = readme.partition("## A short example\n")
    section = rest.split("\n## ", 1)[0]
    blocks = blocks_in(section, "README.md", head.count("\n") + 1)
    assert [b.lang for b in blocks] == ["bash", "python", "bash"]
    scratch = Scratch(tmp_path, request)
    scratch.new("empty")
    for block in blocks:
        assert block.lang in RUN
        run_block(scratch, block)
    created = sorted(p.name for p in (scratch.root / "migrations" / "sql").glob("*.py"))
    assert created == ["20260101000000_create_users_posts_tables.py"]
    assert "create_users_posts_tables" in scratch.sh("modelmig migrate:status", 0, "README") and "applied" in (
        scratch.sh("modelmig migrate:status", 0, "README")
    )
