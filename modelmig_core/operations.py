"""The operations migration files use as ``op``: ``from modelmig_core import operations
as op`` (the line make:migration writes, and the one every migration file already
written holds). A stable public name for ``modelmig_core.schema.operations``."""

from .schema.operations import *  # noqa: F403 - the facade re-exports the package
from .schema.operations import __all__  # noqa: F401
