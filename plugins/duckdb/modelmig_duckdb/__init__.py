"""modelmig-duckdb: a DuckDB driver for modelmig, on ``modelmig_core.api`` only."""
