"""The model DSL (``dsl``: Model, column, relation, ...) and its compilation into state
(``compile``), the state families (``family``) and the core's own relational family."""
