"""The ecosystem's conventions: ``python -m modelmig_core``, click's shell
completion, one sqlglot pin across the distributions, a ``test`` extra that
declares everything the suite imports or runs, the pre-commit hook, and
``dev.py`` (it announces its install, and leaves no scratch folder behind)."""

from __future__ import annotations

import ast
import importlib.metadata as md
import os
import re
import shlex
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
#: every distribution of the repository: the folders with a pyproject.toml
DISTRIBUTIONS = [
    ROOT,
    *sorted(p.parent for p in ROOT.glob("drivers/*/pyproject.toml")),
    *sorted(p.parent for p in ROOT.glob("plugins/*/pyproject.toml")),
]


def pyproject(folder: Path) -> dict[str, Any]:
    return tomllib.loads((folder / "pyproject.toml").read_text())


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    """The distribution a requirement names (``psycopg[binary]>=3.1`` → ``psycopg``)."""
    m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    assert m, spec
    return canonical(m.group(1))


def run(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=120
    )


# ------------------------------------------------------------ python -m, completion


def test_python_m_modelmig_core_is_the_command() -> None:
    version = run(sys.executable, "-m", "modelmig_core", "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"modelmig, version {md.version('modelmig')}"
    listed = run(sys.executable, "-m", "modelmig_core", "--help")
    assert listed.returncode == 0 and "Usage: modelmig " in listed.stdout
    for command in ("init", "make:migration", "migrate:run", "migrate:status"):
        assert command in listed.stdout


@pytest.mark.parametrize(
    "shell, marker",
    [
        ("bash", "complete -o nosort -F _modelmig_completion modelmig"),
        ("zsh", "#compdef modelmig"),
        ("fish", "complete --no-files --command modelmig"),
    ],
)
def test_click_produces_the_completion_script(shell: str, marker: str) -> None:
    script = run(sys.executable, "-m", "modelmig_core", env={"_MODELMIG_COMPLETE": f"{shell}_source"})
    assert script.returncode == 0, script.stderr
    assert marker in script.stdout and "_MODELMIG_COMPLETE" in script.stdout


def test_completion_completes_the_commands_and_their_options() -> None:
    def complete(*words: str) -> list[str]:
        result = run(
            sys.executable,
            "-m",
            "modelmig_core",
            env={
                "_MODELMIG_COMPLETE": "bash_complete",
                "COMP_WORDS": " ".join(["modelmig", *words]),
                "COMP_CWORD": str(len(words)),
            },
        )
        assert result.returncode == 0, result.stderr
        return [line.split(",", 1)[1] for line in result.stdout.splitlines()]

    assert set(complete("migrate:r")) == {"migrate:run", "migrate:rollback", "migrate:reset", "migrate:resolve"}
    assert {"--url", "--driver", "--pyproject", "--toml"} <= set(complete("init", "--"))


def test_the_guide_documents_completion_init_and_the_hook() -> None:
    started = (ROOT / "docs" / "getting-started.md").read_text()
    assert 'eval "$(_MODELMIG_COMPLETE=bash_source modelmig)"' in started and "modelmig init" in started
    assert "id: modelmig-check" in (ROOT / "docs" / "drift-in-ci.md").read_text()
    assert "modelmig init" in (ROOT / "README.md").read_text()


# ------------------------------------------------------------ dependencies


def test_one_sqlglot_pin_across_every_distribution() -> None:
    core = [r for r in pyproject(ROOT)["project"]["dependencies"] if requirement_name(r) == "sqlglot"]
    assert len(core) == 1
    for folder in DISTRIBUTIONS:
        project = pyproject(folder)["project"]
        declared = [r for r in project["dependencies"] if requirement_name(r) == "sqlglot"]
        assert declared in ([], core), f"{folder.relative_to(ROOT)}: {declared} is not the core's {core}"
        if folder == ROOT:  # the core declares it (above); its imports need no reading
            continue
        imports = {
            m for path in folder.glob("*/**/*.py") if ".egg-info" not in str(path) for m in imported_modules(path)
        }
        if "sqlglot" in imports:
            assert declared == core, f"{project['name']} imports sqlglot without declaring {core[0]}"


def imported_modules(path: Path) -> set[str]:
    """The top-level modules ``path`` imports, anywhere in it (relative imports left out)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def programs_run(path: Path) -> tuple[set[str], set[str]]:
    """(modules run as ``[sys.executable, "-m", M, ...]``, programs found with ``shutil.which("P")``)."""
    modules: set[str] = set()
    programs: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.List) and len(node.elts) >= 3:
            first, flag, name = node.elts[:3]
            if (
                isinstance(first, ast.Attribute)
                and first.attr == "executable"
                and isinstance(flag, ast.Constant)
                and flag.value == "-m"
                and isinstance(name, ast.Constant)
                and isinstance(name.value, str)
            ):
                modules.add(name.value.split(".")[0])
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "which"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            programs.add(node.args[0].value)
    return modules, programs


def declared_for_tests() -> set[str]:
    """The distributions ``pip install modelmig[test]`` brings: the extra's own, the
    core's dependencies, and the repo's distributions named through ``modelmig[...]``."""
    project = pyproject(ROOT)["project"]
    extras = project["optional-dependencies"]
    names = {canonical(project["name"])} | {requirement_name(r) for r in project["dependencies"]}
    for spec in extras["test"]:
        names.add(requirement_name(spec))
        m = re.match(r"^modelmig\[([^\]]+)\]", spec)
        for extra in m.group(1).split(",") if m else ():
            names |= {requirement_name(r) for r in extras[extra.strip()]}
    return names


def owner_of_program(program: str) -> str | None:
    for dist in md.distributions():
        for file in dist.files or ():
            if Path(str(file)).name == program and Path(str(file)).parent.name in ("bin", "scripts", "Scripts"):
                return canonical(dist.metadata["Name"])
    return None


def test_the_test_extra_declares_everything_the_suite_imports_or_runs() -> None:
    distributions = md.packages_distributions()
    declared = declared_for_tests()
    files = [p for p in (ROOT / "tests").rglob("*.py")] + [p for d in DISTRIBUTIONS[1:] for p in d.rglob("test*.py")]
    missing: list[str] = []
    local = (
        {p.stem for p in (ROOT / "tests").rglob("*.py")}
        | {p.name for p in (ROOT / "tests").rglob("*") if p.is_dir()}
        | {p.stem for p in ROOT.glob("*.py")}
        | {"tests"}
    )
    for path in files:
        text = path.read_text(encoding="utf-8")
        modules, programs = programs_run(path)
        for module in sorted((imported_modules(path) | modules) - set(sys.stdlib_module_names)):
            dists = distributions.get(module)
            if not dists:
                # a module of the repository, or one the test itself writes into a scratch project
                written = f'"{module}.py"' in text or f'"{module}' in text
                assert module in local or written, (
                    f"{path.relative_to(ROOT)} imports {module!r}: installed by no distribution"
                )
                continue
            if not any(canonical(d) in declared for d in dists):
                missing.append(f"{path.relative_to(ROOT)}: {module} ({', '.join(dists)})")
        for program in sorted(programs):
            owner = owner_of_program(program)
            if owner is None:  # a program no distribution installs: the servers' clients (mariadb, pg_dump)
                continue
            if owner not in declared:
                missing.append(f"{path.relative_to(ROOT)}: the program {program} ({owner})")
    assert not missing, "the test extra of pyproject.toml does not declare: " + "; ".join(missing)


def test_the_check_itself_sees_an_undeclared_import(tmp_path: Path) -> None:
    """The scan reads what a test imports: a third-party module the extra does not
    name (pip itself, installed in every venv) is found, a declared one is not."""
    test = tmp_path / "test_x.py"
    test.write_text(
        "import pip\nimport hypothesis\n\ndef f():\n    import yaml.loader\n"
        "    subprocess.run([sys.executable, '-m', 'ruff', 'check'])\n    shutil.which('squawk')\n"
    )
    assert imported_modules(test) >= {"pip", "hypothesis", "yaml"}
    assert programs_run(test) == ({"ruff"}, {"squawk"})
    assert owner_of_program("squawk") == "squawk-cli" and "squawk-cli" in declared_for_tests()
    declared = declared_for_tests()
    distributions = md.packages_distributions()
    assert "pip" not in declared and canonical(distributions["pip"][0]) == "pip"
    assert canonical(distributions["hypothesis"][0]) in declared and canonical(distributions["yaml"][0]) in declared


def test_dev_and_nox_install_the_test_extra_not_a_list_of_their_own() -> None:
    sys.path.insert(0, str(ROOT))
    try:
        import noxfile
    finally:
        sys.path.remove(str(ROOT))
    extra = pyproject(ROOT)["project"]["optional-dependencies"]["test"]
    assert noxfile.TEST_TOOLS == [r for r in extra if not r.startswith("modelmig[")]
    assert '"[test]"' in (ROOT / "dev.py").read_text()


# ------------------------------------------------------------ pre-commit


def hook() -> dict[str, Any]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    found = [h for h in hooks if h["id"] == "modelmig-check"]
    assert len(found) == 1
    return found[0]


def test_the_pre_commit_hook_is_declared_as_pre_commit_reads_it() -> None:
    h = hook()
    assert h["language"] == "python" and h["pass_filenames"] is False and h["always_run"] is True
    program, *args = shlex.split(h["entry"])
    assert args == ["make:migration", "--check"]
    assert program in pyproject(ROOT)["project"]["scripts"]  # the console script pip installs with modelmig


def test_the_pre_commit_hook_passes_in_step_and_fails_when_a_model_changes(tmp_path: Path) -> None:
    program, *args = shlex.split(hook()["entry"])
    exe = str(Path(sys.executable).parent / program)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    assert subprocess.run([exe, "init"], cwd=tmp_path, env=env, capture_output=True).returncode == 0
    assert subprocess.run([exe, "make:migration"], cwd=tmp_path, env=env, capture_output=True).returncode == 0
    assert subprocess.run([exe, *args], cwd=tmp_path, env=env, capture_output=True).returncode == 0
    models = tmp_path / "models.py"
    models.write_text(
        models.read_text().replace(
            '"body": column("text", nullable=True),',
            '"body": column("text", nullable=True),\n        "rank": column("integer", nullable=True),',
        )
    )
    files = sorted(p.name for p in (tmp_path / "migrations" / "sql").iterdir())
    failed = subprocess.run([exe, *args], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert sorted(p.name for p in (tmp_path / "migrations" / "sql").iterdir()) == files  # --check writes nothing


# ------------------------------------------------------------ dev.py


def import_dev() -> Any:
    sys.path.insert(0, str(ROOT))
    try:
        import dev
    finally:
        sys.path.remove(str(ROOT))
    return dev


def test_dev_example_leaves_no_scratch_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    dev = import_dev()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert dev.example(Path(sys.executable).parent / "modelmig") == 0
    assert "example app copied to " + str(scratch) in capfd.readouterr().out
    assert list(scratch.iterdir()) == []


def test_dev_says_what_it_installs_before_it_installs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = import_dev()
    monkeypatch.setattr(dev, "VENV", tmp_path / ".venv")
    order: list[str] = []

    def record(command: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        order.append(capsys.readouterr().out)  # what was printed before this command started
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(dev.subprocess, "run", record)
    monkeypatch.setattr(dev.sys, "executable", sys.executable)
    (tmp_path / ".venv").mkdir()
    dev.ensure_venv()
    assert order and order[0].startswith(
        "installing modelmig, its drivers and the test tools into .venv (first run, about a minute)..."
    )
    assert len(order[0].splitlines()) == 1
