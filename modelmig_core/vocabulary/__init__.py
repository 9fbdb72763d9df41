"""The registries of the schema language's words: column types (``column_types``)
and the deterministic names of constraints and migrations (``naming``)."""
