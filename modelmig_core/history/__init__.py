"""Migration files (``migrations``), their replay into states (``replay``), the replay
cache (``statecache``), the source writer (``source``), transaction control in raw SQL
(``sqlcontrol``) and the project's models as states (``project``)."""
