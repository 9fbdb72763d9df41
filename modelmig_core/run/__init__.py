"""Running migrations: the runner, the ledger protocol, the production guard, backups,
data-loss reports, resolve, what a fleet's connections share, and the core's apply hooks."""
