"""What every SQL driver shares: the ledger, transactions and the generic renderer.

``plugin.py`` imports no SQLAlchemy (drivers load it to answer ``driver_info`` and
to read the ledger); ``render.py`` does, and is loaded only to apply or print DDL.
"""
