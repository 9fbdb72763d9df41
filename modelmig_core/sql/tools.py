"""Running a database's own command-line tools (pg_dump, mariadb-dump...) for
backups: a missing tool or a failure is one clear line, and passwords go through
the environment, never the command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..errors import MigrationFailed


def find_tool(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise MigrationFailed(f"cannot take a backup: none of {', '.join(names)} is installed on this machine")


def _failure(tool: str, stderr: str, code: int) -> MigrationFailed:
    detail = next((line for line in stderr.splitlines() if line.strip()), f"exit code {code}")
    return MigrationFailed(f"{os.path.basename(tool)} failed: {detail.strip()}; nothing was dropped")


def run_tool(args: Sequence[str], env: dict[str, str]) -> None:
    result = subprocess.run(list(args), env={**os.environ, **env}, capture_output=True, text=True)
    if result.returncode != 0:
        raise _failure(args[0], result.stderr, result.returncode)


@contextmanager
def tool_lines(args: Sequence[str], env: dict[str, str]) -> Iterator[Iterator[str]]:
    """The tool's standard output, streamed line by line (a dump can be large)."""
    proc = subprocess.Popen(
        list(args), env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        yield iter(proc.stdout)
    finally:
        proc.stdout.close()
        stderr = proc.stderr.read()
        proc.stderr.close()
        if proc.wait() != 0:
            raise _failure(args[0], stderr, proc.returncode)


@contextmanager
def tool_writing(
    args: Sequence[str], env: dict[str, str], path: Path, ready: Callable[[bytes], bool]
) -> Iterator[threading.Event]:
    """Run the tool with its standard output copied to ``path`` byte for byte, in a
    thread. Yields an event set once a line for which ``ready(line)`` holds has
    come (or the output ended): the caller may wait for the tool to reach a point.
    On leaving, waits for the tool and raises its failure; if the caller failed,
    the tool is killed first."""
    reached = threading.Event()
    with tempfile.TemporaryFile() as errors, path.open("wb") as out:
        proc = subprocess.Popen(list(args), env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        stdout = proc.stdout

        def copy() -> None:
            try:
                for line in stdout:
                    out.write(line)
                    if not reached.is_set() and ready(line):
                        reached.set()
            finally:
                reached.set()

        copier = threading.Thread(target=copy, name="modelmig-backup-copy", daemon=True)
        copier.start()
        try:
            yield reached
        except BaseException:
            proc.kill()
            raise
        finally:
            code = proc.wait()
            copier.join()
            stdout.close()
        errors.seek(0)
        if code != 0:
            raise _failure(args[0], errors.read().decode("utf-8", "replace"), code)
