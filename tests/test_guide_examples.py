"""Every command and Python example of the user guide (docs/*.md) is executed.

Each page runs in a scratch project of its own, its blocks in page order, with the
installed ``modelmig`` entry point on PATH. An HTML comment right before a fence,
``<!-- guide: KEY[=VALUE] ... -->``, says how the block is used (it is invisible on
the built site):

- ``project`` (or ``project=pg`` / ``project=mysql`` / ``project=empty``): start a
  fresh scratch project before this block: ``modelmig init`` in an empty folder
  (SQLite), or ``modelmig init --url`` of a fresh database on the test server, or
  an empty folder. A page starts with ``project`` unless its first block says.
- ``file=PATH``: write the block into PATH in the project (a Python block whose
  first line is ``# some/path.py`` is that file too).
- ``exit=N``: the block's last command exits N (every other one exits 0).
- ``output``: on a ``text`` block: each of its lines appears in what the block
  before it printed (numbers, times and dates may differ).
- ``same-as=GLOB``: on a Python block: it is, byte for byte, the one project
  file matching GLOB (a generated migration).
- ``env=NAME=VALUE``: set for the block's commands.
- ``setup=COMMAND``: a shell command run (exit 0) before the block, for a state
  the page describes in words (e.g. "once the first migration is applied").
- ``skip=REASON``: needs a server that is not here (MySQL 8, MongoDB): counted
  as a skipped test with that reason.

Any other ``bash`` block is run, line by line (comments after ``  #`` dropped),
each line exiting 0; any other ``python`` block is run with the project's
folder as the working directory. The pages with a test of their own
(OWN_TESTS) are executed there.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
NOW = "2026-01-01T00:00:00"
#: pages executed by a test of their own
OWN_TESTS = {
    "deploying-to-a-busy-database.md": "tests/test_deploying_doc.py",
    "writing-a-driver.md": "tests/test_writing_a_driver_doc.py",
}
#: the generated page (its fences are usage lines, made from the click definitions)
GENERATED = {"reference.md"}
RUN = {"bash", "python"}
FENCE = re.compile(
    r"(?:<!-- guide: (?P<marks>[^\n]*?) -->\n)?```(?P<lang>[\w-]*)\n(?P<body>.*?)^```[ \t]*$", re.S | re.M
)
#: the only servers a block may be skipped for
ABSENT_SERVERS = ("MySQL 8", "MongoDB")


@dataclass
class Block:
    page: str
    line: int
    lang: str
    body: str
    marks: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.page if '/' in self.page or self.page == 'README.md' else 'docs/' + self.page}:{self.line}"


def parse_marks(text: str | None) -> dict[str, str]:
    marks: dict[str, str] = {}
    for token in shlex.split(text or ""):
        key, _, value = token.partition("=")
        marks[key] = value
    return marks


def page_blocks(page: str) -> list[Block]:
    return blocks_in((DOCS / page).read_text(), page)


def blocks_in(text: str, page: str, offset: int = 0) -> list[Block]:
    """The fenced blocks of ``text`` (``offset``: the line ``text`` starts at, less one)."""
    return [
        Block(page, offset + text.count("\n", 0, m.start("lang")) + 1, m["lang"], m["body"], parse_marks(m["marks"]))
        for m in FENCE.finditer(text)
    ]


def guide_pages() -> list[str]:
    return sorted(p.name for p in DOCS.glob("*.md") if p.name not in OWN_TESTS and p.name not in GENERATED)


def skipped_blocks() -> list[Block]:
    return [b for page in guide_pages() for b in page_blocks(page) if "skip" in b.marks]


def normalise(line: str) -> str:
    return re.sub(r"\d+", "N", " ".join(line.split()))


class Scratch:
    """The page's scratch project and the commands run in it."""

    def __init__(self, base: Path, request: pytest.FixtureRequest) -> None:
        self.base, self.request, self.count = base, request, 0
        self.root = base
        self.last_output = ""
        bin_dir = str(Path(sys.executable).parent)
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "MODELMIG_NOW": NOW,
            "PYTHONDONTWRITEBYTECODE": "1",
            "NO_COLOR": "1",
        }
        self.env.pop("APP_ENV", None)

    def new(self, kind: str) -> None:
        self.count += 1
        self.root = self.base / f"project{self.count}"
        self.root.mkdir()
        if kind == "empty":
            return
        command = "modelmig init"
        if kind in ("pg", "mysql"):
            db = self.request.getfixturevalue(f"{kind}_db")
            command += f" --url {shlex.quote(db.url)}"
        elif kind:
            raise AssertionError(f"unknown project kind {kind!r}")
        self.sh(command, 0, "project setup")

    def sh(self, command: str, expected: int, where: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            ["bash", "-c", command], cwd=self.root, env={**self.env, **(env or {})}, capture_output=True, text=True
        )
        output = result.stdout + result.stderr
        assert result.returncode == expected, f"{where}: `{command}` exited {result.returncode}:\n{output}"
        return output


def commands(body: str) -> list[str]:
    lines = [line.split("  #", 1)[0].rstrip() for line in body.splitlines()]
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def run_block(scratch: Scratch, block: Block) -> None:
    marks = block.marks
    env = dict([marks["env"].split("=", 1)]) if "env" in marks else None
    if "setup" in marks:
        scratch.sh(marks["setup"], 0, f"{block.where} (setup)")
    path = marks.get("file")
    if not path and block.lang == "python" and re.match(r"# [\w./-]+\.py\n", block.body):
        path = block.body.split("\n", 1)[0].removeprefix("# ")
    if path:
        target = scratch.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.suffix == ".py" and target.parent != scratch.root:
            (target.parent / "__init__.py").touch()
        target.write_text(block.body)
    elif "same-as" in marks:
        (match,) = sorted(scratch.root.glob(marks["same-as"]))
        assert block.body == match.read_text(), f"{block.where}: not what modelmig wrote to {match.name}"
    elif "output" in marks:
        printed = [normalise(line) for line in scratch.last_output.splitlines()]
        for line in block.body.splitlines():
            if line.strip():
                assert any(normalise(line) in p for p in printed), (
                    f"{block.where}: {line!r} was not printed; the output was:\n{scratch.last_output}"
                )
    elif block.lang == "bash":
        lines = commands(block.body)
        assert lines, f"{block.where}: a bash block without a command"
        scratch.last_output = ""
        for n, command in enumerate(lines):
            expected = int(marks.get("exit", "0")) if n == len(lines) - 1 else 0
            scratch.last_output += scratch.sh(command, expected, block.where, env)
    elif block.lang == "python":
        scratch.last_output = scratch.sh(f"python -c {shlex.quote(block.body)}", 0, block.where, env)


@pytest.mark.parametrize("page", guide_pages())
def test_the_guide_page_runs_as_written(page: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    scratch = Scratch(tmp_path, request)
    blocks = [b for b in page_blocks(page) if "skip" not in b.marks]
    if not blocks or "project" not in blocks[0].marks:
        scratch.new("")
    ran = 0
    for block in blocks:
        if "project" in block.marks:
            scratch.new(block.marks["project"])
        run_block(scratch, block)
        ran += block.lang in RUN
    runnable = [b for b in page_blocks(page) if b.lang in RUN]
    assert ran == len([b for b in runnable if "skip" not in b.marks])


@pytest.mark.parametrize("block", skipped_blocks(), ids=lambda b: b.where)
def test_a_guide_block_that_needs_a_server_not_here(block: Block) -> None:
    reason = block.marks["skip"]
    assert any(server in reason for server in ABSENT_SERVERS), f"{block.where}: skipped for {reason!r}"
    pytest.skip(f"{block.where}: {reason}")


def test_every_command_block_of_the_guide_is_run_or_marked() -> None:
    """A command or Python example in an untagged or shell-like fence would escape
    the test: every one is ``bash`` or ``python``; a transcript with ``$ `` is not."""
    for page in guide_pages():
        for block in page_blocks(page):
            assert block.lang not in {"sh", "shell", "console", "pycon", "py"}, f"{block.where}: ```{block.lang}"
            if block.lang in {"", "text"}:
                assert not block.body.startswith("$ "), f"{block.where}: a transcript; write its commands as bash"
            if "output" in block.marks or "same-as" in block.marks:
                continue
            known = {"project", "file", "exit", "env", "skip", "setup"}
            assert set(block.marks) <= known, f"{block.where}: unknown marks {set(block.marks) - known}"
    for page, test in OWN_TESTS.items():
        assert (DOCS / page).exists() and (ROOT / test).exists(), (page, test)
