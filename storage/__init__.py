"""Persistence: tables, engines, migrations and repositories. No web framework here."""

from storage.engine import Database, make_engine
from storage.migrate import upgrade_head

__all__ = ["Database", "make_engine", "upgrade_head"]
