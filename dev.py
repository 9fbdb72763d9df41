#!/usr/bin/env python3
"""The two quickstart commands, on a fresh machine with only Python 3.11+:

    python3 dev.py example   # the example blog on SQLite: make, run, status; then a model change
                             # (a new column), the migration it generates, run and status again
    python3 dev.py test      # the test databases (when the servers are reachable), then the suite

Both create ./.venv and install modelmig, its drivers and the test tools into it
(once; again when a pyproject.toml changes).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PACKAGES = [".", "drivers/sqlite", "drivers/pg", "drivers/mysql", "drivers/mongo", "plugins/pytest", "plugins/duckdb"]
#: the test tools are the core's ``test`` extra (pyproject.toml): one list, read by pip


def bin_path(name: str) -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / name


def ensure_venv() -> None:
    packages = [p for p in PACKAGES if (ROOT / p / "pyproject.toml").exists()]
    digest = hashlib.sha256()
    for p in packages:
        digest.update((ROOT / p / "pyproject.toml").read_bytes())
    stamp = VENV / ".modelmig-installed"
    if stamp.exists() and stamp.read_text() == digest.hexdigest() and bin_path("modelmig").exists():
        return
    first = not bin_path("modelmig").exists()
    print(
        f"installing modelmig, its drivers and the test tools into {VENV.name}"
        + (" (first run, about a minute)..." if first else " (a pyproject.toml changed)..."),
        flush=True,
    )
    if not bin_path("python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(bin_path("python")), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    # the core with its test extra; the drivers it names come from their folders here
    editable = [arg for p in packages for arg in ("-e", str(ROOT / p) + ("[test]" if p == "." else ""))]
    subprocess.run([*pip, *editable], check=True)
    stamp.write_text(digest.hexdigest())


#: the scripted model change of the example: tags get a colour
MODEL_CHANGE = (
    '"slug": column("string", 64, unique=True),',
    '"slug": column("string", 64, unique=True),\n        "color": column("string", 7, nullable=True),',
)


def example(modelmig_exe: Path | None = None) -> int:
    """Copy the example app to a scratch folder and run its migrations on SQLite;
    then change a model and let make:migration write the migration for it."""
    exe = str(modelmig_exe or bin_path("modelmig"))
    work = Path(tempfile.mkdtemp(prefix="modelmig-blog-"))
    try:
        return _example(exe, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _example(exe: str, work: Path) -> int:
    app = work / "blog"
    ignore = shutil.ignore_patterns("*.sqlite3", "__pycache__", "modelmig-backups")
    shutil.copytree(ROOT / "examples" / "blog", app, ignore=ignore)
    print(f"example app copied to {app} (a scratch folder, removed at the end)")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("MODELMIG_NOW", None)

    def modelmig(*args: str) -> int:
        print(f"\n$ modelmig {' '.join(args)}", flush=True)
        return subprocess.run([exe, *args], cwd=app, env=env).returncode

    steps = ["make:migration"], ["migrate:run"], ["migrate:status"]
    if any(modelmig(*args) for args in steps):
        return 1
    models = app / "blog" / "models.py"
    old, new = MODEL_CHANGE
    models.write_text(models.read_text().replace(old, new, 1))
    print(f"\n# a model change: blog/models.py, class Tag gets {new.split(chr(10))[1].strip()}")
    if any(modelmig(*args) for args in steps):
        return 1
    return 0


def test(args: list[str]) -> int:
    """Create the test databases on the servers that answer, then run pytest, in as
    many worker processes as there are cores (up to 4; each test has its own scratch
    databases, and most of its time is the servers'), unless the arguments say how."""
    python = str(bin_path("python"))
    subprocess.run([python, str(ROOT / "tests" / "support" / "databases.py"), "ensure"], cwd=ROOT)
    said = any(a == "-n" or a.startswith(("-n", "--numprocesses", "--dist")) or a == "no:xdist" for a in args)
    workers = [] if said else ["-n", str(max(1, min(4, os.cpu_count() or 1)))]
    return subprocess.run([python, "-m", "pytest", *workers, *args], cwd=ROOT).returncode


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("example", "test", "install"):
        print(__doc__)
        return 2
    ensure_venv()
    if sys.argv[1] == "example":
        return example()
    if sys.argv[1] == "test":
        return test(sys.argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
