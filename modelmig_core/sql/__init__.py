"""What every SQL driver shares: ``driver.py`` (SqlDriver and SqlSession over
DB-API: the ledger store, transactions, planning and performing statements) and
``render.py`` (the pure Renderer through SQLAlchemy Core).

``driver.py`` imports no SQLAlchemy (drivers load it to read the ledger on the
every-deploy path); ``render.py`` does, and is loaded only to apply or print DDL.
"""
