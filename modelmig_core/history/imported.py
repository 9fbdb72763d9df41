"""The project's models, imported afresh from the configured modules (light: the
model DSL only, so that make's memo of "no changes" is checked before the
compiler and the diff are imported)."""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path

from ..config import Config
from ..errors import ModelError
from ..model.dsl import Model


def import_models(config: Config) -> list[type[Model]]:
    """Import the configured model modules afresh and collect their Model classes."""
    return list(found_models(config))


def found_models(config: Config) -> dict[type[Model], set[str]]:
    """{Model class: the configured modules it was found in}, every models module
    (the top-level ones and each chain's) imported afresh."""
    root = str(config.root)
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    importlib.invalidate_caches()
    found: dict[int, type[Model]] = {}
    seen_in: dict[int, set[str]] = {}
    modules = config.model_modules
    for name in modules:
        for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[loaded]
        _forget_foreign_packages(name, config.root)
    for name in modules:
        try:
            module = importlib.import_module(name)
        except SyntaxError as exc:
            raise ModelError(f"{exc.filename}:{exc.lineno}: syntax error in models: {exc.msg}") from None
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                raise ModelError(f"{config.path}: models module {name!r} not found under {config.root}") from None
            raise ModelError(f"models module {name!r}: {exc}") from None
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - user code: one line naming where it failed
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            raise ModelError(f"{frame.filename}:{frame.lineno}: {type(exc).__name__}: {exc}") from None
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Model) and value is not Model:
                if not value.__dict__.get("abstract", False):
                    found[id(value)] = value
                    seen_in.setdefault(id(value), set()).add(name)
    models = sorted(found.values(), key=lambda m: (m.__module__, m.__name__))
    if not models:
        raise ModelError(f"{config.path}: the models module(s) {', '.join(modules)} define no Model")
    return {m: seen_in[id(m)] for m in models}


def _forget_foreign_packages(name: str, root: Path) -> None:
    """The packages above module ``name`` that this process imported from somewhere
    else than the project (another project's ``analytics`` package) are forgotten,
    so that ``name`` is found under ``root``; the project's own are kept."""
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        package = sys.modules.get(".".join(parts[:i]))
        if package is None:
            continue
        paths = [Path(p) for p in getattr(package, "__path__", None) or []]
        if not any(p == root or root in p.parents for p in paths):
            for loaded in [m for m in sys.modules if m == package.__name__ or m.startswith(package.__name__ + ".")]:
                del sys.modules[loaded]
