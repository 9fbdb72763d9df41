"""What the command line prints, and where.

- Data (the status table, ``--json`` documents) goes to stdout; warnings and
  errors go to stderr. Progress lines (a migration starting and ending, the
  closing summary) go to stdout, or to stderr under ``--json`` so that stdout is
  exactly one JSON document.
- Colour only when the stream is a terminal, and never with ``NO_COLOR`` set
  (https://no-color.org).
- A reader that goes away (``modelmig migrate:status | head -1``) ends the
  output quietly: what is left to print is dropped, the command finishes its
  work (a migration is never cut short because nobody reads its output) and no
  BrokenPipeError traceback follows.
- No line shows a secret: each is scrubbed of every password and secret URL
  option known to the process (``redaction.scrub``), in every form; a JSON
  document is scrubbed value by value before it is encoded.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import click

from .redaction import scrub, scrub_value

WARNING = "warning:"
ERROR = "error:"


def colour_enabled(err: bool) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    stream = sys.stderr if err else sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def silence_stdout() -> None:
    """Point stdout at /dev/null once its reader has gone, so that nothing more
    (not even the flush at exit) raises BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # not a real file (tests capture stdout)
        pass


class Output:
    """One command's printing. ``json_mode``: progress goes to stderr."""

    def __init__(self, json_mode: bool = False) -> None:
        self.json_mode = json_mode
        self.stdout_closed = False
        self._lock = threading.Lock()  # --jobs: lines of connections worked on at once stay whole

    # ------------------------------------------------------------ styling

    def style(self, text: str, err: bool = False, **styles: Any) -> str:
        return click.style(text, **styles) if colour_enabled(err) else text

    def _styled(self, line: str, err: bool) -> str:
        if line.startswith(ERROR):
            return self.style(ERROR, err, fg="red", bold=True) + line[len(ERROR) :]
        if line.startswith(WARNING):
            return self.style(WARNING, err, fg="yellow", bold=True) + line[len(WARNING) :]
        return line

    # ------------------------------------------------------------ writing

    def _write(self, line: str, err: bool) -> None:
        line = scrub(line)  # every line: no known secret (redaction.py) is ever printed
        with self._lock:
            if not err and self.stdout_closed:
                return
            try:
                click.echo(self._styled(line, err), err=err, color=colour_enabled(err))
            except BrokenPipeError:
                if err:
                    return
                self.stdout_closed = True
                silence_stdout()

    def data(self, line: str) -> None:
        """The command's result: stdout."""
        self._write(line, err=False)

    def info(self, line: str) -> None:
        """Progress: stdout, or stderr under --json."""
        self._write(line, err=self.json_mode)

    def warn(self, line: str) -> None:
        """A warning: stderr, prefixed ``warning:`` if it is not already."""
        self._write(line if line.startswith(WARNING) else f"{WARNING} {line}", err=True)

    def error(self, line: str) -> None:
        self._write(f"{ERROR} {line}", err=True)

    def echo(self, line: str) -> None:
        """A runner's line: warnings to stderr, the rest as progress."""
        if line.startswith(WARNING):
            self.warn(line)
        else:
            self.info(line)

    def raw_err(self, line: str) -> None:
        """A line on stderr as it is (no prefix)."""
        self._write(line, err=True)

    def json(self, document: Any) -> None:
        import json

        self.data(json.dumps(scrub_value(document), indent=2))
