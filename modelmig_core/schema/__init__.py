"""State values (``state``), the operations (``operations/``, a module per kind), the
diff (``diff``: a comparator per kind, one dependency ordering), the comparison of two
states (``differences``), views (``views``) and what hand-written SQL does (``sqltext``)."""
