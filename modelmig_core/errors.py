"""Error types. Every error a user can cause is a ModelmigError: the CLI prints its
message as one line and exits non-zero, without a traceback."""

from __future__ import annotations


class ModelmigError(Exception):
    """An error caused by the user's input or environment, reported as one line."""

    exit_code = 2


class ModelError(ModelmigError):
    """A model declares something invalid (names the model and field)."""


class ConfigError(ModelmigError):
    """The [tool.modelmig] configuration is missing or invalid."""


class MigrationFileError(ModelmigError):
    """A migration file cannot be loaded or its chain is broken."""


class GuardError(ModelmigError):
    """A destructive command was refused (production guard or no confirmation)."""


class LockError(ModelmigError):
    """Another runner holds the migration lock of this database."""

    exit_code = 3


class MigrationFailed(ModelmigError):
    """A migration failed while being applied or rolled back."""


class InterruptedMigration(ModelmigError):
    """A migration was interrupted earlier on a database without transactional DDL."""
