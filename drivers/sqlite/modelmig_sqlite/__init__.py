"""SQLite driver for modelmig (sqlite3 from the standard library)."""
