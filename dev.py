#!/usr/bin/env python3
"""The two quickstart commands, on a fresh machine with only Python 3.11+:

    python3 dev.py example   # the example blog's make:migration, migrate:run, migrate:status on SQLite
    python3 dev.py test      # the whole test suite

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
PACKAGES = [".", "drivers/sqlite", "drivers/pg", "drivers/mysql", "drivers/mongo", "plugins/pytest"]
TOOLS = ["pytest>=8", "sqlalchemy>=2.0", "mongomock>=4.1", "hypothesis>=6.100", "ruff>=0.6", "nox>=2024.4"]


def bin_path(name: str) -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / name


def ensure_venv() -> None:
    packages = [p for p in PACKAGES if (ROOT / p / "pyproject.toml").exists()]
    digest = hashlib.sha256()
    for p in packages:
        digest.update((ROOT / p / "pyproject.toml").read_bytes())
    digest.update(" ".join(TOOLS).encode())
    stamp = VENV / ".modelmig-installed"
    if stamp.exists() and stamp.read_text() == digest.hexdigest() and bin_path("modelmig").exists():
        return
    if not bin_path("python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(bin_path("python")), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    editable = [arg for p in packages for arg in ("-e", str(ROOT / p))]
    subprocess.run([*pip, *editable, *TOOLS], check=True)
    stamp.write_text(digest.hexdigest())


def example() -> int:
    """Copy the example app to a scratch folder and run its migrations on SQLite."""
    work = Path(tempfile.mkdtemp(prefix="modelmig-blog-"))
    app = work / "blog"
    shutil.copytree(ROOT / "examples" / "blog", app, ignore=shutil.ignore_patterns("*.sqlite3", "__pycache__"))
    modelmig = str(bin_path("modelmig"))
    print(f"example app copied to {app}")
    for args in (["make:migration"], ["migrate:run"], ["migrate:status"]):
        print(f"$ modelmig {' '.join(args)}", flush=True)
        result = subprocess.run([modelmig, *args], cwd=app)
        if result.returncode != 0:
            return result.returncode
    return 0


def test(args: list[str]) -> int:
    return subprocess.run([str(bin_path("python")), "-m", "pytest", *args], cwd=ROOT).returncode


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
