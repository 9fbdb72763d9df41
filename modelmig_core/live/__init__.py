"""The live database as an input: drift, make:models (``modelgen``) and baseline."""
