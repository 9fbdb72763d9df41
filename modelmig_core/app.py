"""Opening an app: its config and a plugin manager with the config's plugins."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .config import Config, load_config
from .registry import Registry
from .run.guard import set_production_envs


def open_app(config_path: Path | None = None) -> tuple[Config, Registry]:
    config = load_config(config_path)
    set_production_envs(config.production_envs)  # what APP_ENV calls production, for guard and backup
    os.chdir(config.root)  # relative paths (models, sqlite files) are the app's
    if str(config.root) not in sys.path:
        sys.path.insert(0, str(config.root))
    registry = Registry(list(config.plugins))
    if config.chains:
        # the declared chains resolved against the drivers' families now, for every
        # command: a chain in the folder of a default chain still in use (``[chains.sql]``
        # beside a connection in no chain) is refused before anything is written
        from .targets import chain_map

        chain_map(config, registry)
    return config, registry
