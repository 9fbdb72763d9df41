"""PostgreSQL declarative partitioning (issue 19, item 2): the partition key and the
declared partitions of a table, kept instead of named as unmanaged.

make -> run -> reflect (the key and partitions are there, the partitions are no
tables of their own) and drift 0 -> rows route to their partitions -> make:models
writes them back and its models make the same schema -> a partition added and one
dropped by a model change (the rows of the others kept) -> a partition detached by
hand is reported by drift -> rollback. Hostile names and bounds, a changed key,
a primary key without the key columns and MySQL/SQLite are refused at make time.

A partition's own indexes and foreign keys (``partition(bound, indexes=[...],
foreign_keys=[...])``): made on the partition, reflected into its ``Partition``,
compared by drift (one dropped by hand is reported), written by make:models,
changed in place with the rows kept, rolled back, dropped with the partition.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmig_core.history import statecache
from modelmig_core.history.replay import replay
from modelmig_core.registry import Registry
from modelmig_core.schema.partitions import BoundError, _date_text, canonical_bound
from modelmig_core.schema.state import Partition, State
from tests.support.schema import drift
from tests.support.servers import ServerDb

MODELS = """
class Payment(Model):
    table = "payments"
    partition_by = ("range", ["paid_at"])
    partitions = {
        "payments_2022_01": "FROM ('2022-01-01') TO ('2022-02-01')",
        "payments_2022_02": "FOR VALUES FROM ('2022-02-01 00:00:00+00') TO ('2022-03-01')",
        "payments_rest": "DEFAULT",
    }
    schema = {
        "id": column("bigInteger", primary=True),
        "paid_at": column("timestamp", use_tz=True, primary=True),
        "amount": column("decimal", (8, 2)),
        "bucket_id": column("integer", nullable=True),
    }
    database = {
        "indexes": [index("amount")],
        "foreign_keys": [foreign_key("bucket_id", "tags", "id")],
        "unique": [unique(["paid_at", "amount"])],
        "checks": [check("amount >= 0")],
    }

class Tag(Model):
    table = "tags"
    schema = {"id": column("increments")}

class Event(Model):
    table = "events"
    partition_by = ("list", ["kind"])
    partitions = {"events_a": "IN ('a', 'it''s')", "events_b": "IN ('b')"}
    schema = {"id": column("integer"), "kind": column("string", 10)}

class Bucket(Model):
    table = "buckets"
    partition_by = ("hash", ["id"])
    partitions = {"buckets_0": "WITH (MODULUS 2, REMAINDER 0)", "buckets_1": "WITH (MODULUS 2, REMAINDER 1)"}
    schema = {"id": column("integer"), "label": column("text", nullable=True)}
"""


def live_state(db: ServerDb) -> State:
    driver = Registry().driver(db.driver)
    with driver.connect(db.url) as session:
        return driver.reflect(session)


def comparable(db: ServerDb, state: State) -> State:
    return Registry().driver(db.driver).comparable(state).canonical()


def routed(db: ServerDb) -> dict[str, int]:
    """Rows per physical partition (tableoid names where each row went)."""
    rows = db.rows("SELECT tableoid::regclass::text, count(*) FROM payments GROUP BY 1")
    return {str(name): int(n) for name, n in rows}


def test_partitions_make_run_reflect_route_write_back_change_drift_and_roll_back(
    make_project: Any, pg_db: ServerDb
) -> None:
    db = pg_db
    p = make_project({"main": {"url": db.url}})
    p.models(MODELS)
    p.ok("make:migration")
    p.ok("migrate:run")

    live = live_state(db)
    assert set(live.tables) == {"payments", "events", "buckets", "tags"}  # partitions are no tables of their own
    payments = live.tables["payments"]
    assert payments.partition_by == ("range", ("paid_at",))
    assert payments.partitions == (
        Partition("payments_2022_01", "FROM ('2022-01-01') TO ('2022-02-01')"),
        Partition("payments_2022_02", "FROM ('2022-02-01') TO ('2022-03-01')"),
        Partition("payments_rest", "DEFAULT"),
    )
    assert live.tables["events"].partitions[0].bound == "IN ('a', 'it''s')"
    assert live.tables["buckets"].partition_by == ("hash", ("id",))
    assert comparable(db, live) == comparable(db, replay(p.root / "migrations", "sql").head)
    code, out = drift(p)
    assert code == 0 and "drift: none" in out and "partition" not in out, out

    # rows route to their partitions
    db.execute(
        "INSERT INTO payments (id, paid_at, amount) VALUES (1, '2022-01-15', 1.5), (2, '2022-02-03', 2.5), (3, '2022-02-28', 3), "
        "(4, '2023-06-01', 4)"
    )
    assert routed(db) == {"payments_2022_01": 1, "payments_2022_02": 2, "payments_rest": 1}

    # make:models writes them back as literals, and its models make the same schema
    adopt = make_project({"main": {"url": db.url}})
    result = adopt.ok("make:models")
    source = (adopt.root / "models.py").read_text()
    flat = "".join(source.split())
    assert "".join('partition_by = ("range", ["paid_at"])'.split()) in flat, source
    assert "".join("\"payments_2022_02\": \"FROM ('2022-02-01') TO ('2022-03-01')\",".split()) in flat, source
    assert "".join('"payments_rest": "DEFAULT",'.split()) in flat, source
    assert "payments_2022_01" not in result.output.split("unmanaged")[-1] or "partition" not in result.output
    adopt.ok("make:migration")
    assert comparable(db, replay(adopt.root / "migrations", "sql").head) == comparable(db, live)

    # a partition added and one dropped by a model change: the other rows stay
    changed = MODELS.replace(
        "\"payments_2022_01\": \"FROM ('2022-01-01') TO ('2022-02-01')\",",
        "\"payments_2022_03\": \"FROM ('2022-03-01') TO ('2022-04-01')\",",
    )
    assert changed != MODELS
    before = db.rows("SELECT id, paid_at, amount FROM payments WHERE paid_at >= '2022-02-01' ORDER BY id")
    p.models(changed)
    p.ok("make:migration")
    text = p.migration_files()[1].read_text()
    assert "op.AddPartition(" in text and "op.DropPartition(" in text, text
    p.ok("migrate:run", "--force")
    assert db.rows("SELECT id, paid_at, amount FROM payments WHERE paid_at >= '2022-02-01' ORDER BY id") == before
    assert routed(db) == {"payments_2022_02": 2, "payments_rest": 1}
    db.execute("INSERT INTO payments (id, paid_at, amount) VALUES (5, '2022-03-10', 5)")
    assert routed(db)["payments_2022_03"] == 1
    names = [t.name for t in live_state(db).tables["payments"].partitions]
    assert names == ["payments_2022_02", "payments_2022_03", "payments_rest"]
    code, out = drift(p)
    assert code == 0 and "drift: none" in out, out

    # a partition detached by hand is reported by drift
    db.execute("ALTER TABLE events DETACH PARTITION events_b")
    code, out = drift(p)
    assert code == 1 and "missing partition events.events_b" in out, out
    db.execute("ALTER TABLE events ATTACH PARTITION events_b FOR VALUES IN ('b', 'c')")
    code, out = drift(p)
    assert code == 1 and "changed partition events.events_b: bound IN ('b', 'c') in the database, IN ('b')" in out, out
    db.execute("ALTER TABLE events DETACH PARTITION events_b")
    db.execute("ALTER TABLE events ATTACH PARTITION events_b FOR VALUES IN ('b')")
    code, out = drift(p)
    assert code == 0, out

    p.ok("migrate:rollback", "--force")
    assert [t.name for t in live_state(db).tables["payments"].partitions] == [
        "payments_2022_01",
        "payments_2022_02",
        "payments_rest",
    ]
    p.ok("migrate:rollback", "--force")
    assert set(live_state(db).tables) == set()


def refused(make_project: Any, url: str, models: str) -> list[str]:
    p = make_project({"main": {"url": url}})
    p.models(models)
    result = p.run("make:migration")
    assert result.exit_code != 0, result.output
    assert not p.migration_files()
    return [line for line in result.output.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("bound", "words"),
    [
        ("FROM (1) TO (2)); DROP TABLE payments; --", "is not one partition bound"),
        ("IN ((SELECT 1))", "is not a literal"),
        ("IN (now())", "is not a literal"),
        ("IN (1) ; DROP TABLE x", "is not one partition bound"),
        ("", "a bound is a non-empty string"),
        ("WITH (MODULUS 2, REMAINDER 0)", "is no range bound"),
        ("FROM (1, 2) TO (3, 4)", "gives 2 and 2 value(s), the key has 1 column(s)"),
    ],
)
def test_hostile_bounds_are_one_error_line_naming_model_and_partition(
    make_project: Any, bound: str, words: str
) -> None:
    models = f"""
    class Payment(Model):
        table = "payments"
        partition_by = ("range", ["id"])
        partitions = {{"p1": {bound!r}}}
        schema = {{"id": column("integer")}}
    """
    (line,) = refused(make_project, "postgresql://u@h/db", models)
    assert "model Payment, field 'partitions'" in line and "partition p1" in line and words in line, line


@pytest.mark.parametrize(
    ("attrs", "words"),
    [
        ('partition_by = ("range", ["nope"])', "partition key column 'nope' is not a column of things"),
        ('partition_by = ("interval", ["id"])', "unknown partitioning method 'interval'"),
        ('partition_by = "id"', 'partition_by is ("range"|"list"|"hash", [columns])'),
        ('partitions = {"p": "DEFAULT"}', "partitions need a partition_by key"),
        ('partition_by = ("range", ["at"])\n        partitions = {"bad\\nname": "DEFAULT"}', "partition name"),
        ('partition_by = ("range", ["at"])', "the key (id) of partitioned table things must hold the partition key"),
    ],
)
def test_bad_partitioning_is_one_error_line_naming_the_field(make_project: Any, attrs: str, words: str) -> None:
    models = f"""
    class Thing(Model):
        table = "things"
        {attrs}
        schema = {{"id": column("increments"), "at": column("date")}}
    """
    (line,) = refused(make_project, "postgresql://u@h/db", models)
    assert "model Thing" in line and words in line, line


@pytest.mark.parametrize("url", ["sqlite:///app.sqlite3", "mysql://u@h/db"])
def test_partitioning_is_refused_where_the_database_has_none(make_project: Any, url: str) -> None:
    models = """
    class Thing(Model):
        table = "things"
        partition_by = ("list", ["kind"])
        partitions = {"things_a": "IN ('a')"}
        schema = {"id": column("integer"), "kind": column("string", 5)}
    """
    driver = "sqlite" if url.startswith("sqlite") else "mysql"
    lines = refused(make_project, url, models)
    (line,) = [line for line in lines if "partition_by list" in line]
    assert "connection 'main'" in line and "model Thing" in line and f"{driver} has no declarative partitioning" in line


def test_a_changed_partition_key_is_refused_at_make_time_naming_the_table(make_project: Any) -> None:
    p = make_project({"main": {"url": "postgresql://u@h/db"}})
    p.models(MODELS)
    p.ok("make:migration")
    p.models(MODELS.replace('partition_by = ("hash", ["id"])', 'partition_by = ("hash", ["label"])'))
    result = p.run("make:migration")
    assert result.exit_code != 0
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert "table buckets: its partition key changes from hash (id) to hash (label)" in line, line
    assert len(p.migration_files()) == 1


def test_hostile_partition_names_reach_sql_quoted(make_project: Any, pg_db: ServerDb) -> None:
    name = 'p"; DROP TABLE t; --'
    key = 'ki"nd) ; --'
    models = f"""
    class Thing(Model):
        table = "t"
        partition_by = ("list", [{key!r}])
        partitions = {{{name!r}: "IN ('x'';--')", "rest": "DEFAULT"}}
        schema = {{"id": column("integer"), {key!r}: column("string", 10)}}
    """
    p = make_project({"main": {"url": pg_db.url}})
    p.models(models)
    p.ok("make:migration")
    p.ok("migrate:run")
    pg_db.execute("INSERT INTO t VALUES (1, 'x'';--'), (2, 'y')")
    rows = pg_db.rows("SELECT tableoid::regclass::text, id FROM t ORDER BY id")
    assert [r[1] for r in rows] == [1, 2] and rows[1][0] == "rest"
    live = live_state(pg_db).tables["t"]
    assert [x.name for x in live.partitions] == sorted(["rest", name]) and live.partition_by == ("list", (key,))
    code, out = drift(p)
    assert code == 0, out


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        (
            "FOR VALUES FROM ('2022-01-01 00:00:00+00') TO ('2022-02-01 12:30:00+00')",
            "FROM ('2022-01-01') TO ('2022-02-01 12:30:00')",
        ),
        ("from (minvalue, -3) to (5, maxvalue)", "FROM (MINVALUE, -3) TO (5, MAXVALUE)"),
        ("in ('a', NULL, 1.5)", "IN ('a', NULL, 1.5)"),
        ("default", "DEFAULT"),
        ("WITH (modulus 4, remainder 3)", "WITH (MODULUS 4, REMAINDER 3)"),
    ],
)
def test_bounds_read_into_one_canonical_text(text: str, canonical: str) -> None:
    assert canonical_bound(text) == canonical
    assert canonical_bound(canonical) == canonical


def test_a_bound_of_two_statements_is_refused() -> None:
    with pytest.raises(BoundError):
        canonical_bound("IN (1); SELECT 1")


def test_a_partition_named_as_a_table_is_refused(make_project: Any) -> None:
    models = """
    class Tag(Model):
        table = "tags"
        schema = {"id": column("increments")}

    class Event(Model):
        table = "events"
        partition_by = ("list", ["kind"])
        partitions = {"tags": "IN ('a')"}
        schema = {"id": column("integer"), "kind": column("string", 10)}
    """
    (line,) = refused(make_project, "postgresql://u@h/db", models)
    assert "model Event, field 'partitions'" in line and "partition 'tags' has the name of table 'tags'" in line


ADOPTED = [
    "CREATE TABLE payment (payment_id integer NOT NULL, amount numeric(5,2) NOT NULL, "
    "payment_date timestamp with time zone NOT NULL, PRIMARY KEY (payment_date, payment_id)) "
    "PARTITION BY RANGE (payment_date)",
    "CREATE TABLE payment_p2022_01 PARTITION OF payment FOR VALUES FROM ('2022-01-01 00:00:00+00') "
    "TO ('2022-02-01 00:00:00+00')",
    "CREATE TABLE payment_p2022_02 PARTITION OF payment FOR VALUES FROM ('2022-02-01 00:00:00+00') "
    "TO ('2022-03-01 00:00:00+00')",
    "CREATE INDEX idx_own ON payment_p2022_01 (amount)",
    "CREATE TABLE logs (id integer NOT NULL, msg text NOT NULL) PARTITION BY LIST (lower(msg))",
    "CREATE TABLE logs_a PARTITION OF logs FOR VALUES IN ('a')",
]


def test_a_partitioned_database_is_adopted_baselined_with_drift_zero(make_project: Any, pg_db: ServerDb) -> None:
    """Partitions the server made (bounds it writes as '2022-01-01 00:00:00+00') are
    written back by make:models, baseline accepts them and drift is zero; a key of an
    expression is named, a partition's own index kept (not lost)."""
    for statement in ADOPTED:
        pg_db.execute(statement)
    p = make_project({"main": {"url": pg_db.url}})
    made = p.ok("make:models")
    source = (p.root / "models.py").read_text()
    flat = "".join(source.split())
    own = '"payment_p2022_01": partition("FROM (\'2022-01-01\') TO (\'2022-02-01\')", indexes=[index("amount"'
    assert "".join(own.split()) in flat, source
    assert "".join("\"payment_p2022_02\": \"FROM ('2022-02-01') TO ('2022-03-01')\",".split()) in flat, source
    assert "partition logs_a" in source and "index idx_own" not in source, source
    assert "partitioned by LIST (lower(msg))" in made.output + source, made.output + source
    p.ok("make:migration")
    p.ok("migrate:baseline")
    code, out = drift(p)
    assert code == 0 and "drift: none" in out, out
    live = live_state(pg_db)
    assert "payment_p2022_01" not in live.tables and "logs_a" in live.tables  # kept, or named as before
    assert [x.name for x in live.tables["payment"].partitions] == ["payment_p2022_01", "payment_p2022_02"]
    assert [i.name for i in live.tables["payment"].partitions[0].indexes] == ["idx_own"]


def _quoted(value: str | int) -> str:
    return str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.text(), st.integers(-(10**12), 10**12)), min_size=1, max_size=5))
def test_any_list_of_literals_reads_back_to_its_own_values(values: list[str | int]) -> None:
    """Any text (quotes, semicolons, comment marks, newlines) or number in a LIST
    bound stays one literal of the same value: the canonical text reads back to the
    same values, and is its own canonical text."""
    import sqlglot
    from sqlglot import exp

    values = [v for v in values if not isinstance(v, str) or ("\x00" not in v and _date_text(v) == v)]
    if not values:
        return
    bound = canonical_bound("IN (" + ", ".join(_quoted(v) for v in values) + ")")
    assert canonical_bound(bound) == bound
    parsed = sqlglot.parse_one(f"CREATE TABLE _p PARTITION OF _t FOR VALUES {bound}", read="postgres")
    spec = parsed.find(exp.PartitionBoundSpec)
    assert spec is not None
    back = [-int(n.this.this) if isinstance(n, exp.Neg) else n.this if n.is_string else int(n.this) for n in spec.this]
    assert back == values


def test_a_renamed_key_column_keeps_the_partitions_and_a_dropped_partition_counts_its_own_rows(
    make_project: Any, pg_db: ServerDb
) -> None:
    """RenameColumn carries the partition key (PostgreSQL renames a key column);
    DropPartition names the partition's rows as what it drops, not its table's."""
    models = """
    class Event(Model):
        table = "events"
        partition_by = ("list", ["kind"])
        partitions = {"events_a": "IN ('a')", "events_b": "IN ('b')"}
        schema = {"id": column("integer"), "kind": column("string", 10)}
    """
    p = make_project({"main": {"url": pg_db.url}})
    p.models(models)
    p.ok("make:migration")
    p.ok("migrate:run")
    pg_db.execute("INSERT INTO events VALUES (1, 'a'), (2, 'b'), (3, 'b')")
    renamed = models.replace('"kind": column("string", 10)', '"sort": column("string", 10, renamed_from="kind")')
    p.models(renamed.replace('["kind"]', '["sort"]'))
    p.ok("make:migration")
    assert "op.RenameColumn(" in p.migration_files()[1].read_text()
    p.ok("migrate:run")
    assert live_state(pg_db).tables["events"].partition_by == ("list", ("sort",))
    code, out = drift(p)
    assert code == 0 and "drift: none" in out, out
    p.models(renamed.replace('["kind"]', '["sort"]').replace(', "events_b": "IN (\'b\')"', ""))
    made = p.ok("make:migration")
    assert "drop partition events_b of events" in made.output, made.output
    result = p.ok("migrate:run", "--force")
    assert "drops data: table events_b (2 row(s))" in result.output, result.output
    assert pg_db.rows("SELECT id FROM events ORDER BY id") == [(1,)]
    p.ok("migrate:rollback", "--force")
    p.ok("migrate:rollback", "--force")
    assert live_state(pg_db).tables["events"].partition_by == ("list", ("kind",))


# ---------------------------------------------------------------- a partition's own indexes and foreign keys

OWN = """
from modelmig_core import partition

class Customer(Model):
    table = "customers"
    schema = {"id": column("increments"), "name": column("string", 40)}

class Sale(Model):
    table = "sales"
    partition_by = ("range", ["sold_at"])
    partitions = {
        "sales_2022_01": partition(
            "FROM ('2022-01-01') TO ('2022-02-01')",
            indexes=[index("customer_id", name="ix_sales_2022_01_customer"), index(["amount"], where="amount > 10")],
            foreign_keys=[foreign_key("customer_id", "customers", "id", name="fk_sales_2022_01_customer", on_delete="cascade")],
        ),
        "sales_2022_02": "FROM ('2022-02-01') TO ('2022-03-01')",
    }
    schema = {
        "id": column("integer", primary=True),
        "sold_at": column("timestamp", use_tz=True, primary=True),
        "customer_id": column("integer"),
        "amount": column("integer"),
    }
"""


def own_keys(db: ServerDb, partition: str) -> tuple[list[str], list[str]]:
    """The indexes and foreign keys the server says ``partition`` has of its own
    (not attached to an index or constraint of its table)."""
    indexes = db.rows(
        "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        f"WHERE x.indrelid = '{partition}'::regclass AND NOT i.relispartition AND NOT x.indisprimary ORDER BY 1"
    )
    fks = db.rows(
        f"SELECT conname FROM pg_constraint WHERE conrelid = '{partition}'::regclass AND contype = 'f' "
        "AND conparentid = 0 ORDER BY 1"
    )
    return [str(r[0]) for r in indexes], [str(r[0]) for r in fks]


def test_a_partitions_own_indexes_and_foreign_keys_are_made_reflected_compared_written_changed_and_dropped(
    make_project: Any, pg_db: ServerDb
) -> None:
    db = pg_db
    p = make_project({"main": {"url": db.url}})
    p.models(OWN)
    p.ok("make:migration")
    p.ok("migrate:run")
    head = replay(p.root / "migrations", "sql").head
    (first, second) = head.tables["sales"].partitions
    assert [i.name for i in first.indexes] == ["ix_sales_2022_01_amount", "ix_sales_2022_01_customer"]
    assert [f.name for f in first.foreign_keys] == ["fk_sales_2022_01_customer"] and second.indexes == ()
    # made on the partition itself, not on its table
    assert own_keys(db, "sales_2022_01") == (
        ["ix_sales_2022_01_amount", "ix_sales_2022_01_customer"],
        ["fk_sales_2022_01_customer"],
    )
    assert own_keys(db, "sales_2022_02") == ([], [])
    # a partition without keys of its own is written as before (new fields omitted)
    text = p.migration_files()[0].read_text()
    assert "op.Partition(\"sales_2022_02\", \"FROM ('2022-02-01') TO ('2022-03-01')\")" in text, text
    assert "indexes=()" not in text and "foreign_keys=()" not in text, text

    # the replay cache holds them: its head decodes equal to the replayed one
    assert (p.root / "migrations" / statecache.FOLDER).is_dir()
    names: list[str] = []
    body = json.dumps(statecache.encode(head, {}, names, {}))
    assert statecache.decode(body, names, State) == head

    # reflected into the Partition value, equal to what the migrations say; drift 0
    live = live_state(db)
    assert comparable(db, live) == comparable(db, head)
    part = live.tables["sales"].partitions[0]
    assert part.indexes[0].where is not None and (part.foreign_keys[0].on_delete or "").lower() == "cascade"
    code, out = drift(p)
    assert code == 0 and "drift: none" in out and "unmanaged index" not in out, out

    # the foreign key holds, and cascades, on the partition
    db.execute("INSERT INTO customers (id, name) VALUES (1, 'a'), (2, 'b')")
    db.execute(
        "INSERT INTO sales (id, sold_at, customer_id, amount) VALUES (1, '2022-01-05', 1, 5), (2, '2022-01-06', 2, 50), "
        "(3, '2022-02-07', 2, 7)"
    )
    with pytest.raises(Exception, match="fk_sales_2022_01_customer"):
        db.execute("INSERT INTO sales (id, sold_at, customer_id, amount) VALUES (9, '2022-01-09', 99, 1)")

    # make:models writes them back as literals, and its models make the same schema
    adopt = make_project({"main": {"url": db.url}})
    adopt.ok("make:models")
    source = (adopt.root / "models.py").read_text()
    flat = "".join(source.split())
    assert "".join('"sales_2022_01": partition('.split()) in flat, source
    assert "".join('"fk_sales_2022_01_customer"'.split()) in flat and "where=" in source, source
    assert "".join("\"sales_2022_02\": \"FROM ('2022-02-01') TO ('2022-03-01')\",".split()) in flat, source
    adopt.ok("make:migration")
    assert comparable(db, replay(adopt.root / "migrations", "sql").head) == comparable(db, live)

    # dropped by hand: each reported by drift
    db.execute("DROP INDEX ix_sales_2022_01_customer")
    db.execute("ALTER TABLE sales_2022_01 DROP CONSTRAINT fk_sales_2022_01_customer")
    code, out = drift(p)
    assert code == 1, out
    assert "missing index sales_2022_01.ix_sales_2022_01_customer" in out, out
    assert "missing foreign key sales_2022_01.fk_sales_2022_01_customer" in out, out
    db.execute("CREATE INDEX ix_sales_2022_01_customer ON sales_2022_01 (customer_id)")
    db.execute(
        "ALTER TABLE sales_2022_01 ADD CONSTRAINT fk_sales_2022_01_customer FOREIGN KEY (customer_id) "
        "REFERENCES customers (id) ON DELETE CASCADE"
    )
    assert drift(p)[0] == 0

    # changed by the models: the partition's keys changed in place, its rows kept
    before = db.rows("SELECT id, sold_at, customer_id, amount FROM sales ORDER BY id")
    changed = OWN.replace(', index(["amount"], where="amount > 10")', ', index(["amount", "customer_id"])').replace(
        'foreign_keys=[foreign_key("customer_id", "customers", "id", name="fk_sales_2022_01_customer", on_delete="cascade")],',
        "",
    )
    changed = changed.replace(
        "\"sales_2022_02\": \"FROM ('2022-02-01') TO ('2022-03-01')\",",
        "\"sales_2022_02\": partition(\"FROM ('2022-02-01') TO ('2022-03-01')\", "
        'foreign_keys=[foreign_key("customer_id", "customers", "id", name="fk_sales_2022_02_customer")]),',
    )
    assert changed.count("partition(") == 2 and "fk_sales_2022_01" not in changed, changed
    p.models(changed)
    p.ok("make:migration")
    text = p.migration_files()[1].read_text()
    assert text.count("op.ChangePartition(") == 4 and "DropPartition" not in text and "AddPartition" not in text, text
    p.ok("migrate:run", "--force")
    assert db.rows("SELECT id, sold_at, customer_id, amount FROM sales ORDER BY id") == before
    assert own_keys(db, "sales_2022_01") == (
        ["ix_sales_2022_01_amount_customer_id", "ix_sales_2022_01_customer"],
        [],
    )
    assert own_keys(db, "sales_2022_02") == ([], ["fk_sales_2022_02_customer"])
    code, out = drift(p)
    assert code == 0 and "drift: none" in out, out

    # rolled back: as they were
    p.ok("migrate:rollback", "--force")
    assert own_keys(db, "sales_2022_01") == (
        ["ix_sales_2022_01_amount", "ix_sales_2022_01_customer"],
        ["fk_sales_2022_01_customer"],
    )
    assert own_keys(db, "sales_2022_02") == ([], [])
    assert db.rows("SELECT id, sold_at, customer_id, amount FROM sales ORDER BY id") == before

    # a partition dropped takes its keys with it; the customers it referenced stay
    dropped = (
        OWN.replace('"sales_2022_01": partition(', '"sales_2022_03": partition(')
        .replace("FROM ('2022-01-01') TO ('2022-02-01')", "FROM ('2022-03-01') TO ('2022-04-01')")
        .replace("sales_2022_01", "sales_2022_03")
    )
    p.models(dropped)
    p.ok("make:migration")
    p.ok("migrate:run", "--force")
    assert db.rows("SELECT count(*) FROM pg_class WHERE relname LIKE '%sales_2022_01%'") == [(0,)]
    assert own_keys(db, "sales_2022_03")[1] == ["fk_sales_2022_03_customer"]
    assert db.rows("SELECT count(*) FROM customers") == [(2,)]
    assert drift(p)[0] == 0


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ('indexes=[index("nope")]', "column 'nope' is not a column"),
        ('indexes=[unique("amount")]', "indexes holds index(...) entries only"),
        ('foreign_keys=[foreign_key("amount", "missing", "id")]', "references table 'missing', which no model defines"),
        ('indexes=[index("amount", name="x\\nDROP TABLE sales")]', "holds a line break or control character"),
        (
            'indexes=[index("amount", name="dup")], foreign_keys=[foreign_key("amount", "sales", "id", name="dup")]',
            "given twice",
        ),
    ],
)
def test_a_partitions_bad_keys_are_one_error_line_naming_model_and_partition(
    make_project: Any, entry: str, words: str
) -> None:
    models = f"""
    from modelmig_core import partition

    class Sale(Model):
        table = "sales"
        partition_by = ("range", ["id"])
        partitions = {{"sales_low": partition("FROM (0) TO (10)", {entry})}}
        schema = {{"id": column("integer", primary=True), "amount": column("integer")}}
    """
    lines = refused(make_project, "postgresql://u@h/db", models)
    errors = [line for line in lines if line.startswith("error")]
    assert len(errors) == 1 and "Sale" in errors[0] and words in errors[0], lines


def test_a_hostile_name_of_a_partitions_own_key_reaches_sql_quoted_and_reads_back(
    make_project: Any, pg_db: ServerDb
) -> None:
    hostile = 'ix"; DROP TABLE sales; --'
    models = f"""
    from modelmig_core import partition

    class Sale(Model):
        table = "sales"
        partition_by = ("range", ["id"])
        partitions = {{"sales_low": partition("FROM (0) TO (10)", indexes=[index("amount", name={hostile!r})])}}
        schema = {{"id": column("integer", primary=True), "amount": column("integer")}}
    """
    p = make_project({"main": {"url": pg_db.url}})
    p.models(models)
    p.ok("make:migration")
    p.ok("migrate:run")
    assert own_keys(pg_db, "sales_low") == ([hostile], [])
    assert [i.name for i in live_state(pg_db).tables["sales"].partitions[0].indexes] == [hostile]
    code, out = drift(p)
    assert code == 0 and "drift: none" in out, out


def test_a_partition_index_named_as_another_index_of_the_schema_is_refused_at_make_time(make_project: Any) -> None:
    models = """
    from modelmig_core import partition

    class Tag(Model):
        table = "tags"
        schema = {"id": column("increments"), "label": column("string", 20)}
        database = {"indexes": [index("label", name="ix_shared")]}

    class Sale(Model):
        table = "sales"
        partition_by = ("range", ["id"])
        partitions = {"sales_low": partition("FROM (0) TO (10)", indexes=[index("amount", name="ix_shared")])}
        schema = {"id": column("integer", primary=True), "amount": column("integer")}
    """
    lines = refused(make_project, "postgresql://u@h/db", models)
    errors = [line for line in lines if line.startswith("error")]
    assert len(errors) == 1 and "'ix_shared' names an index or constraint of table" in errors[0], lines


def test_make_models_leaves_out_a_partition_key_the_models_cannot_declare_and_says_so(
    make_project: Any, pg_db: ServerDb
) -> None:
    """An integer -> bigint foreign key of a partition (PostgreSQL accepts it, the
    models do not) is left out and noted; the partition's other keys are written."""
    for statement in (
        "CREATE TABLE owners (id bigint PRIMARY KEY)",
        "CREATE TABLE shops (id integer PRIMARY KEY)",
        "CREATE TABLE items (id integer NOT NULL, owner_id integer NOT NULL, shop_id integer NOT NULL, "
        "PRIMARY KEY (id)) PARTITION BY RANGE (id)",
        "CREATE TABLE items_low PARTITION OF items FOR VALUES FROM (0) TO (100)",
        "ALTER TABLE items_low ADD CONSTRAINT fk_low_owner FOREIGN KEY (owner_id) REFERENCES owners (id)",
        "ALTER TABLE items_low ADD CONSTRAINT fk_low_shop FOREIGN KEY (shop_id) REFERENCES shops (id)",
        "CREATE INDEX ix_low_owner ON items_low (owner_id)",
    ):
        pg_db.execute(statement)
    p = make_project({"main": {"url": pg_db.url}})
    made = p.ok("make:models")
    source = (p.root / "models.py").read_text()
    said = made.output + source
    assert "items_low.fk_low_owner" in said and "left out" in said, said
    assert '"fk_low_shop"' in source and '"ix_low_owner"' in source, source
    assert 'name="fk_low_owner"' not in source and '"fk_low_owner",' not in source.split("class Item")[-1], source
    p.ok("make:migration")
    part = replay(p.root / "migrations", "sql").head.tables["items"].partitions[0]
    assert [f.name for f in part.foreign_keys] == ["fk_low_shop"] and [i.name for i in part.indexes] == ["ix_low_owner"]


# ---------------------------------------------------------------- a partition's own SQL text, in the declared dialect

DECLARED = """
from modelmig_core import partition

class Sale(Model):
    table = "sales"
    partition_by = ("range", ["sold_at"])
    partitions = {
        "sales_2022_01": partition(
            "FROM ('2022-01-01') TO ('2022-02-01')",
            indexes=[
                index("code", name="ix_sales_2022_01_tagged", where="CONCAT(code, '-x') <> 'a-x'"),
                index([part(sql="CONCAT(code, '!')")], name="ix_sales_2022_01_bang"),
            ],
        ),
    }
    schema = {
        "id": column("integer", primary=True),
        "sold_at": column("timestamp", use_tz=True, primary=True),
        "code": column("string", 20),
    }
"""


def test_a_partitions_own_index_sql_is_written_in_the_declared_dialect_both_ways(
    make_project: Any, pg_db: ServerDb
) -> None:
    """A partition's own index predicate and expression, written in MySQL's dialect,
    go to PostgreSQL transpiled (CONCAT -> ||) as a table's do; drift 0; make:models
    writes them back in MySQL's dialect; one PostgreSQL cannot read faithfully is
    refused at make time naming the connection and the partition's index."""
    p = make_project({"main": {"url": pg_db.url}}, 'sql_dialect = "mysql"')
    p.models(DECLARED.replace("from modelmig_core import partition", "from modelmig_core import part, partition"))
    p.ok("make:migration")
    p.ok("migrate:run")
    own = live_state(pg_db).tables["sales"].partitions[0].indexes
    assert [i.name for i in own] == ["ix_sales_2022_01_bang", "ix_sales_2022_01_tagged"]
    assert "||" in str(own[1].where) and "||" in str(own[0].expressions[0]), own
    assert own_keys(pg_db, "sales_2022_01")[0] == ["ix_sales_2022_01_bang", "ix_sales_2022_01_tagged"]
    code, out = drift(p)
    assert code == 0 and "drift: none" in out, out

    p.ok("make:models", "--out", "adopted.py", "--force")
    source = (p.root / "adopted.py").read_text()
    assert source.count("CONCAT(") == 2 and "||" not in source, source
    assert "ix_sales_2022_01_tagged" in source and "ix_sales_2022_01_bang" in source, source

    pg_db.execute("DROP INDEX ix_sales_2022_01_tagged")
    pg_db.execute("CREATE INDEX ix_sales_2022_01_tagged ON sales_2022_01 (code)")
    code, out = drift(p)
    assert code == 1 and "ix_sales_2022_01_tagged" in out, out

    bad = make_project({"main": {"url": pg_db.url}}, 'sql_dialect = "mysql"')
    bad.models(
        DECLARED.replace("from modelmig_core import partition", "from modelmig_core import part, partition").replace(
            "CONCAT(code, '-x') <> 'a-x'", "NOSUCHFN(code) > 1"
        )
    )
    result = bad.run("make:migration")
    assert result.exit_code != 0 and not bad.migration_files(), result.output
    lines = [
        line for line in result.output.splitlines() if "partition sales_2022_01 index ix_sales_2022_01_tagged" in line
    ]
    assert lines and "connection 'main'" in lines[0] and "nosuchfn()" in lines[0].lower(), result.output


# ---------------------------------------------------------------- a partition's foreign key in a cycle

CYCLE = """
from modelmig_core import partition

class Customer(Model):
    table = "customers"
    schema = {
        "id": column("integer", primary=True),
        "last_sale_id": column("integer", nullable=True),
        "last_sale_at": column("timestamp", use_tz=True, nullable=True),
    }
    database = {"foreign_keys": [foreign_key(["last_sale_id", "last_sale_at"], "sales", ["id", "sold_at"])]}

class Sale(Model):
    table = "sales"
    partition_by = ("range", ["sold_at"])
    partitions = {
        "sales_2022_01": partition(
            "FROM ('2022-01-01') TO ('2022-02-01')",
            foreign_keys=[foreign_key("customer_id", "customers", "id", name="fk_sales_2022_01_customer")],
        ),
    }
    schema = {
        "id": column("integer", primary=True),
        "sold_at": column("timestamp", use_tz=True, primary=True),
        "customer_id": column("integer"),
    }
"""


def test_a_partitions_foreign_key_that_closes_a_cycle_is_added_after_the_tables(
    make_project: Any, pg_db: ServerDb
) -> None:
    """customers -> sales (the table's key) and sales_2022_01 -> customers (the
    partition's own): the partition's key is added once both tables exist, as a
    table's foreign key that closes a cycle is; the run succeeds, drift 0, the key
    holds, and the rollback drops everything."""
    p = make_project({"main": {"url": pg_db.url}})
    p.models(CYCLE)
    p.ok("make:migration")
    up = p.migration_files()[0].read_text().split("down = [")[0]
    assert up.count("op.ChangePartition(") == 1 and up.count("op.CreateTable(") == 2, up
    assert up.index("op.ChangePartition(") > up.rindex("op.CreateTable("), up
    p.ok("migrate:run")
    assert own_keys(pg_db, "sales_2022_01")[1] == ["fk_sales_2022_01_customer"]
    head = replay(p.root / "migrations", "sql").head
    assert [f.name for f in head.tables["sales"].partitions[0].foreign_keys] == ["fk_sales_2022_01_customer"]
    code, out = drift(p)
    assert code == 0 and "drift: none" in out, out
    with pytest.raises(Exception, match="fk_sales_2022_01_customer"):
        pg_db.execute("INSERT INTO sales (id, sold_at, customer_id) VALUES (1, '2022-01-05', 99)")
    p.ok("migrate:rollback", "--force")
    assert set(live_state(pg_db).tables) == set()
