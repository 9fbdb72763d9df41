"""Column types as objects: what is true of a type everywhere.

A ``ColumnType`` carries its name, how its argument and options become a state
Column's fields, which defaults fit it, its zero value (what a rollback writes
into the rows when it adds back a NOT NULL column), its size in an index key,
how two of its values compare, and which changes of it narrow (``narrowing``)
and which values survive them (``fits``). The built-in types below are
registered through the ``column_types`` hook (``builtin.py``) exactly as a
plugin's are; each driver keeps one table from a type's name to its DDL type and
one back from what it reflects. A type a driver has no entry for (and that
carries no rendering of its own for that driver) is refused at make time.
"""

from __future__ import annotations

import ipaddress
import json
import struct
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import ConfigError

COLUMN_OPTIONS = frozenset(
    {
        "nullable",
        "default",
        "default_sql",
        "generated",
        "stored",
        "unique",
        "index",
        "primary",
        "comment",
        "use_tz",
        "default_now",
        "renamed_from",
        "length",
        "precision",
        "scale",
        "values",
        "autoincrement",
        "collation",
        "charset",
        "on_update_now",
        "identity",
        "enum_name",
        "backfill",  # a one-off value for the rows that exist when the column is added (never a default)
        "array",  # an array of the type (PostgreSQL's ``integer[]``): refused where the database has none
    }
)

DEFAULT_STRING_LENGTH = 255
DEFAULT_DECIMAL = (8, 2)


# ---------------------------------------------------------------- what a type change keeps
#
# One table over the built-in types and their arguments, owned by their type objects
# (``BuiltinType.widens``/``fits``; a plugin's type answers for itself): ``narrowing`` says, from the two columns
# alone, whether the new type cannot hold every value the old one can (make names it
# as dropping data, the production guard takes it as destructive); ``fits`` says,
# per value read from the database, whether that value survives the change
# unchanged (the run checks every row before it alters the column).

INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "smallInteger": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigInteger": (-(2**63), 2**63 - 1),
    # one-byte and UNSIGNED integers (MySQL/MariaDB): refused on the databases without them
    "tinyInteger": (-(2**7), 2**7 - 1),
    "unsignedTinyInteger": (0, 2**8 - 1),
    "unsignedSmallInteger": (0, 2**16 - 1),
    "unsignedInteger": (0, 2**32 - 1),
    "unsignedBigInteger": (0, 2**64 - 1),
}
#: the most characters a value of a type takes as text, where that is known
_TEXT_WIDTH: dict[str, int] = {
    "smallInteger": 6,
    "integer": 11,
    "bigInteger": 20,
    "tinyInteger": 4,
    "unsignedTinyInteger": 3,
    "unsignedSmallInteger": 5,
    "unsignedInteger": 10,
    "unsignedBigInteger": 20,
    "boolean": 5,
    "uuid": 36,
    "date": 10,
}
#: exactly representable significant digits: float (4 bytes) and double (8 bytes)
_FLOAT_DIGITS = {"float": 6, "double": 15}
#: text and binary types by size, smallest first (MySQL's TEXT/MEDIUMTEXT/LONGTEXT,
#: BLOB/MEDIUMBLOB/LONGBLOB): a type holds every value of the ones before it
TEXT_SIZES = ("text", "mediumText", "longText")
BINARY_SIZES = ("binary", "mediumBinary", "longBinary")
#: byte strings of a bounded length (MySQL's VARBINARY(n) and BINARY(n), zero-padded)
BYTE_STRINGS = ("varbinary", "fixedBinary")
#: the types whose ``precision`` is the fractional seconds kept (0..6; None: the
#: database's default, 6 everywhere modelmig renders it)
FRACTIONAL_TYPES = ("time", "timestamp", "utcTimestamp")
MAX_FRACTION = 6
#: types that take no argument and keep exactly their own values (PostgreSQL's
#: network, text-search and interval types; MySQL's YEAR and PostgreSQL's plain json)
SELF_TYPES = ("inet", "cidr", "macaddr", "tsvector", "interval", "year", "jsonText")
_TYPED = ("type", "length", "precision", "scale", "values", "use_tz", "array")


def type_label(col: Any) -> str:
    """The column's type as people write it: ``string(50)``, ``decimal(8, 2)``,
    ``enum('a', 'b')``, ``timestamp with time zone`` (its type object's ``label``)."""
    return type_of(col.type).label(col)


def _builtin_label(col: Any) -> str:
    label = _scalar_label(col)
    return f"{label}[]" if getattr(col, "array", False) else label


def _scalar_label(col: Any) -> str:
    t = col.type
    if t in FRACTIONAL_TYPES:
        args = f"({col.precision})" if col.precision is not None else ""
        return f"{t}{args} with time zone" if col.use_tz else f"{t}{args}"
    if t == "string":
        return f"string({_length(col)})"
    if t == "char":
        return f"char({_length(col)})"
    if t == "decimal":
        p, s = _decimal_args(col)
        return f"decimal({p}, {s})"
    if t in ("enum", "set"):
        return f"{t}({', '.join(repr(v) for v in col.values or ())})"
    args = [str(a) for a in (col.length, col.precision, col.scale) if a is not None]
    return f"{t}({', '.join(args)})" if args else t


def _length(col: Any) -> int:
    return DEFAULT_STRING_LENGTH if col.length is None else int(col.length)


def _decimal_args(col: Any) -> tuple[int, int]:
    p = col.precision if col.precision is not None else DEFAULT_DECIMAL[0]
    s = col.scale if col.scale is not None else DEFAULT_DECIMAL[1]
    return p, s


def _integer_digits(col: Any) -> int | None:
    """Digits left of the decimal point that every value of ``col`` fits in."""
    if col.type in INTEGER_RANGES:
        return len(str(INTEGER_RANGES[col.type][1]))
    if col.type == "boolean":
        return 1
    if col.type == "decimal":
        p, s = _decimal_args(col)
        return p - s
    return None


def _text_width(col: Any) -> int | None:
    if col.type in ("string", "char"):
        return _length(col)
    if col.type == "year":
        return 4
    if col.type == "enum":
        return max((len(v) for v in col.values or ()), default=0)
    if col.type == "decimal":
        return _decimal_args(col)[0] + 2  # sign and point
    return _TEXT_WIDTH.get(col.type)


def narrowing(old: Any, new: Any) -> str | None:
    """Why ``new`` cannot hold every value ``old`` can (``'string(255) to
    string(50)'``), or None when it can (or nothing about the type changes). A type
    this table does not know narrows whenever its arguments change (fail safe)."""
    if all(getattr(old, k) == getattr(new, k) for k in _TYPED):
        return None
    if type_of(new.type).widens(old, new):
        return None
    return f"{type_label(old)} to {type_label(new)}"


def _fraction(col: Any) -> int:
    return MAX_FRACTION if col.precision is None else int(col.precision)


def _builtin_widens(old: Any, new: Any) -> bool:
    old_array, new_array = getattr(old, "array", False), getattr(new, "array", False)
    if old_array and not new_array:
        return False  # an array becomes one value: the other elements are lost
    if new_array and not old_array:  # a value becomes a one-element array of the element type
        element = replace(new, array=False)
        return all(getattr(old, k) == getattr(element, k) for k in _TYPED) or _builtin_widens(old, element)
    o, n = old.type, new.type
    if n in BYTE_STRINGS:  # zero-padded BINARY(n) changes what a shorter value reads back as
        return o == n and _length(old) <= _length(new) and (n == "varbinary" or _length(old) == _length(new))
    if n in BINARY_SIZES and o in BYTE_STRINGS:
        return True  # a blob holds any VARBINARY/BINARY value
    if n == "set":
        return o == "set" and set(old.values or ()) <= set(new.values or ())
    if n == "utcTimestamp":  # 1970..2038 in UTC: a DATETIME need not fit
        return o == "utcTimestamp" and _fraction(old) <= _fraction(new)
    if n in TEXT_SIZES:  # bytes need not be text; a larger text need not fit a smaller one
        return o not in BINARY_SIZES and (o not in TEXT_SIZES or TEXT_SIZES.index(o) <= TEXT_SIZES.index(n))
    if n in BINARY_SIZES[1:]:
        return o in BINARY_SIZES and BINARY_SIZES.index(o) <= BINARY_SIZES.index(n)
    if n == "string":
        width = _text_width(old)
        return width is not None and width <= _length(new)
    if n == "char":  # blank-padded: only a char as long or shorter keeps its values as they were
        return o == "char" and _length(old) <= _length(new)
    if n in INTEGER_RANGES:
        if o == "boolean":
            return True
        if o == "year":  # 0 and 1901..2155
            return INTEGER_RANGES[n][0] <= 0 and 2155 <= INTEGER_RANGES[n][1]
        if o in INTEGER_RANGES:
            low, high = INTEGER_RANGES[o]
            return INTEGER_RANGES[n][0] <= low and high <= INTEGER_RANGES[n][1]
        if o == "decimal":
            p, s = _decimal_args(old)
            return s == 0 and 10**p - 1 <= INTEGER_RANGES[n][1]
        return False
    if n == "decimal":
        p, s = _decimal_args(new)
        if o == "decimal":
            op, os_ = _decimal_args(old)
            return s >= os_ and p - s >= op - os_
        digits = _integer_digits(old)
        return o in (*INTEGER_RANGES, "boolean") and digits is not None and digits <= p - s
    if n in _FLOAT_DIGITS:
        if o in _FLOAT_DIGITS:
            return _FLOAT_DIGITS[o] <= _FLOAT_DIGITS[n]
        if o == "decimal":
            return _decimal_args(old)[0] <= _FLOAT_DIGITS[n]
        digits = _integer_digits(old)
        return o in (*INTEGER_RANGES, "boolean") and digits is not None and digits <= _FLOAT_DIGITS[n]
    if n == "timestamp":
        if o == "date":
            return True
        if o not in ("timestamp", "utcTimestamp") or _fraction(old) > _fraction(new):
            return False  # fractional seconds would be cut
        return new.use_tz or not old.use_tz  # the offset would be lost
    if n == "time":
        return o == "time" and _fraction(old) <= _fraction(new) and (new.use_tz or not old.use_tz)
    if n == "enum":
        return o == "enum" and set(old.values or ()) <= set(new.values or ())
    if n == "jsonText":  # json kept as written: any json value is text of json
        return o in ("json", "jsonText")
    return n == o and n in ("boolean", "date", "json", "uuid", "binary", *SELF_TYPES)


def fits(old: Any, new: Any) -> Callable[[Any, str | None], bool]:
    """A test of one value (as the driver reads it, and as the server's own text)
    for whether it survives the change from ``old`` to ``new`` unchanged (the new
    type object's ``fits``)."""
    return type_of(new.type).fits(old, new)


def _builtin_fits(old: Any, new: Any) -> Callable[[Any, str | None], bool]:
    """The built-in types' value test for a change from ``old`` to ``new``: a string
    no longer than the new length, an integer in range, a number with no more
    decimal places or digits than the new type keeps, a timestamp at midnight for a
    date, an enum value the new enum has, text that parses as JSON or a UUID."""
    n = new.type
    old_array, new_array = getattr(old, "array", False), getattr(new, "array", False)
    if new_array and not old_array:  # each value becomes a one-element array
        element = replace(new, array=False)
        if all(getattr(old, k) == getattr(element, k) for k in _TYPED):
            return lambda value, text: True
        return _builtin_fits(old, element)
    if old_array and not new_array:  # an array keeps its value only as its one element
        one = _builtin_fits(replace(old, array=False), new)
        return lambda value, text: isinstance(value, (list, tuple)) and len(value) == 1 and one(value[0], str(value[0]))
    if new_array:
        return lambda value, text: False  # arrays are checked element by element nowhere yet: none is known to fit
    if n in BYTE_STRINGS:
        limit = _length(new)
        return lambda value, text: (
            _byte_length(value, text) <= limit
            and (n == "varbinary" or old.type != "fixedBinary" or _length(old) == limit)
        )
    if n == "set":
        allowed_set = frozenset(new.values or ())
        return lambda value, text: text is not None and all(v in allowed_set for v in text.split(",") if v)
    if n == "year":
        return lambda value, text: _year(value, text) is not None
    if n in FRACTIONAL_TYPES and old.type in (*FRACTIONAL_TYPES, "date") and _fraction(new) < _fraction(old):
        keeps = _fraction(new)
        return lambda value, text: _fraction_fits(value, text, keeps)
    if n == "utcTimestamp":
        return lambda value, text: _in_utc_range(value, text)
    if n in SELF_TYPES:
        return lambda value, text: old.type == n
    if n in ("string", "char"):
        limit = _length(new)
        return lambda value, text: text is not None and len(text) <= limit
    if n in TEXT_SIZES:
        return lambda value, text: _as_text(value, text) is not None
    if n in INTEGER_RANGES:
        low, high = INTEGER_RANGES[n]

        def integer(value: Any, text: str | None) -> bool:
            number = _as_decimal(value, text)
            return number is not None and number == number.to_integral_value() and low <= number <= high

        return integer
    if n == "decimal":
        p, s = _decimal_args(new)

        def decimal(value: Any, text: str | None) -> bool:
            number = _as_decimal(value, text)
            if number is None:
                return False
            try:
                return number == number.quantize(Decimal(1).scaleb(-s)) and abs(number) < Decimal(10) ** (p - s)
            except InvalidOperation:
                return False

        return decimal
    if n in _FLOAT_DIGITS:
        single = n == "float"
        return lambda value, text: _fits_float(_as_decimal(value, text), single)
    if n == "boolean":
        return lambda value, text: (
            value in (0, 1) or (text or "").strip().lower() in ("0", "1", "t", "f", "true", "false")
        )
    if n == "date":
        return _fits_date
    if n == "time":
        return lambda value, text: _parses(lambda: time.fromisoformat((text or "").strip()), value, time)
    if n == "timestamp":
        if old.type == "timestamp" and old.use_tz and not new.use_tz:
            return _fits_without_zone
        return lambda value, text: (
            isinstance(value, (datetime, date))
            or _parses(lambda: datetime.fromisoformat((text or "").strip()), value, datetime)
        )
    if n == "enum":
        allowed = frozenset(new.values or ())
        return lambda value, text: text in allowed
    if n == "json":
        return lambda value, text: isinstance(value, (dict, list)) or _parses(lambda: json.loads(text or ""), value)
    if n == "uuid":
        return lambda value, text: (
            isinstance(value, uuid.UUID) or _parses(lambda: uuid.UUID((text or "").strip()), value)
        )
    if n in BINARY_SIZES:
        return lambda value, text: isinstance(value, (bytes, bytearray, memoryview)) or "\\" not in (text or "\\")
    return lambda value, text: False  # a type this table does not know: no value is known to fit


def _byte_length(value: Any, text: str | None) -> int:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(bytes(value))
    return len((text if text is not None else str(value)).encode("utf-8"))


def _year(value: Any, text: str | None) -> int | None:
    """A YEAR value (1901..2155, or 0), else None."""
    raw = value if isinstance(value, int) and not isinstance(value, bool) else (text or "").strip()
    try:
        year = int(raw)
    except ValueError:
        return None
    return year if year == 0 or 1901 <= year <= 2155 else None


def _fraction_fits(value: Any, text: str | None, keeps: int) -> bool:
    """Whether a time or timestamp keeps its value with ``keeps`` fractional digits."""
    micro: int | None = None
    if isinstance(value, (datetime, time)):
        micro = value.microsecond
    else:
        raw = (text if text is not None else str(value)).strip()
        _head, dot, tail = raw.partition(".")
        digits = ""
        for ch in tail if dot else "":
            if not ch.isdigit():
                break
            digits += ch
        if len(digits.rstrip("0")) > MAX_FRACTION:
            return False
        micro = int((digits + "000000")[:MAX_FRACTION]) if digits else 0
    return micro % 10 ** (MAX_FRACTION - keeps) == 0


def _in_utc_range(value: Any, text: str | None) -> bool:
    """Whether a timestamp lies in MySQL TIMESTAMP's range (1970-01-01 00:00:01 to
    2038-01-19 03:14:07 UTC), read as UTC."""
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=None) if value.utcoffset() is None else value
    else:
        try:
            moment = datetime.fromisoformat((text or "").strip())
        except ValueError:
            return False
    if moment.utcoffset() is not None:
        moment = (moment - moment.utcoffset()).replace(tzinfo=None)  # type: ignore[operator]
    return datetime(1970, 1, 1, 0, 0, 1) <= moment <= datetime(2038, 1, 19, 3, 14, 7)


def _parses(parse: Callable[[], Any], value: Any, kind: type | None = None) -> bool:
    if kind is not None and isinstance(value, kind) and not (kind is time and isinstance(value, datetime)):
        return True
    try:
        parse()
    except (ValueError, TypeError):
        return False
    return True


def _fits_without_zone(value: Any, text: str | None) -> bool:
    """A timestamp with a time zone keeps its meaning without one only when it is in
    UTC (the server writes its wall-clock time): any other offset would be lost."""
    if isinstance(value, datetime):
        offset = value.utcoffset()
        return offset is None or not offset
    raw = (text or "").strip()
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return False
    offset = parsed.utcoffset()
    return offset is None or not offset


def _fits_date(value: Any, text: str | None) -> bool:
    if isinstance(value, datetime):
        return value.time() == time(0)
    if isinstance(value, date):
        return True
    raw = (text or "").strip()
    try:
        return date.fromisoformat(raw[:10]) is not None and raw[10:].strip(" T0:.") in ("", "Z", "+", "-")
    except ValueError:
        return False


def _as_text(value: Any, text: str | None) -> str | None:
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None
    return text if text is not None else str(value)


def _as_decimal(value: Any, text: str | None) -> Decimal | None:
    """The exact number a value stands for, or None when it is not a finite number."""
    try:
        if isinstance(value, bool):
            number = Decimal(int(value))
        elif isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, Decimal):
            number = value
        elif isinstance(value, str):
            number = Decimal(value.strip())
        elif text is not None:
            number = Decimal(text.strip())
        else:
            return None
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _fits_float(number: Decimal | None, single: bool) -> bool:
    """Whether ``number`` reads back the same from a double (or a 4-byte float):
    the shortest text of the nearest one is the same number."""
    if number is None:
        return False
    try:
        nearest = float(number)
        if nearest in (float("inf"), float("-inf")):
            return False
        if not single:
            return Decimal(repr(nearest)) == number
        packed = struct.unpack("<f", struct.pack("<f", nearest))[0]
    except (OverflowError, struct.error):
        return False
    for digits in range(1, 10):
        shortest = f"{packed:.{digits}g}"
        if struct.unpack("<f", struct.pack("<f", float(shortest)))[0] == packed:
            return Decimal(shortest) == number
    return False


# ---------------------------------------------------------------- the type objects

#: what a type's ``ddl``/``reflects`` entry is keyed by: a SQLAlchemy dialect name
#: (``postgresql``, ``mysql``, ``sqlite``) or a driver's name (``mongo``)
TypeRendering = Callable[[Any], Any]


class ColumnType:
    """A logical column type: what is true of it on every database.

    ``name`` is what a model writes (``column("citext")``); ``state`` the type a
    state Column carries (an alias such as ``increments`` compiles to ``integer``
    with ``implied`` options). ``zero`` is written into a rollback when it adds
    back a NOT NULL column without a default; ``key_size`` is the most bytes a
    value takes in an index key (None: the type cannot be a key without a prefix
    length). ``ddl`` maps a dialect (or driver) name to a function of the state
    Column that returns its DDL type (a SQLAlchemy type for SQL drivers): a plugin
    type renders through it where the driver's own table has no entry. ``reflects``
    maps a dialect name to a function of the reflected SQLAlchemy type that returns
    the Column fields (``{"type": "citext"}``) when the live column is of this type,
    else None: drift and make:models read the type back through it.

    Subclass and override ``arguments``, ``value_problem``, ``zero_value``,
    ``key_bytes``, ``same``, ``widens``, ``fits`` and ``label`` for more; the
    defaults take no argument, accept any literal default, narrow on any change
    and know no value to fit a narrowed column."""

    def __init__(
        self,
        name: str,
        *,
        state: str | None = None,
        implied: Mapping[str, Any] | None = None,
        zero: Any = None,
        key_size: int | None = 8,
        ddl: Mapping[str, TypeRendering] | None = None,
        reflects: Mapping[str, TypeRendering] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"a column type's name must be an identifier, got {name!r}")
        self.name = name
        self.state = state or name
        self.implied: dict[str, Any] = dict(implied or {})
        self.zero = zero
        self.key_size = key_size
        self.ddl: dict[str, TypeRendering] = dict(ddl or {})
        self.reflects: dict[str, TypeRendering] = dict(reflects or {})
        #: rendered only by a ``render_column`` hook (a type registered by name alone)
        self.hook_rendered = False

    def __repr__(self) -> str:
        return f"ColumnType({self.name!r})"

    def arguments(self, arg: Any, options: Mapping[str, Any]) -> dict[str, Any]:
        """The state Column's type fields (``length``, ``precision``, ``scale``,
        ``values``) from the model's argument (``column("string", 50)``) and
        options. Raises ValueError, in words a model author can act on."""
        if arg is not None:
            raise ValueError(f"column type {self.name!r} takes no argument (got {arg!r})")
        return {}

    def value_problem(self, column: Any, value: Any) -> str | None:
        """Why ``value`` (a default or a backfill literal) cannot be stored in
        ``column``, or None."""
        return None

    def zero_value(self, column: Any) -> Any:
        """What a rollback writes into the existing rows when it adds back a NOT NULL
        column of this type without a default (editable in the migration file)."""
        return self.zero

    def key_bytes(self, column: Any) -> int | None:
        """The most bytes one value takes in an index key, at 4 bytes a character
        (utf8mb4); None when the type cannot be a key without a prefix length."""
        return self.key_size

    def same(self, a: Any, b: Any) -> bool:
        """Whether two values of this type (a default in the models and the one
        read back, say) are the same value. Default: Python's ``==``."""
        return bool(a == b)

    def widens(self, old: Any, new: Any) -> bool:
        """Whether a column of this type (``new``) holds every value ``old`` can.
        Default: only an unchanged type does (fail safe)."""
        return all(getattr(old, k) == getattr(new, k) for k in _TYPED)

    def fits(self, old: Any, new: Any) -> Callable[[Any, str | None], bool]:
        """A test of one value read from the database (the driver's value and the
        server's own text) for whether it survives a change from ``old`` to this
        type unchanged. Default: no value is known to fit."""
        return lambda value, text: False

    def label(self, column: Any) -> str:
        """The column's type as people write it (``citext``, ``string(50)``)."""
        args = [str(a) for a in (column.length, column.precision, column.scale) if a is not None]
        return f"{column.type}({', '.join(args)})" if args else column.type


def _string_arguments(arg: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    length = arg if arg is not None else options.get("length", DEFAULT_STRING_LENGTH)
    if not isinstance(length, int) or isinstance(length, bool) or length <= 0:
        raise ValueError(f"string length must be a positive integer, got {length!r}")
    return {"length": length}


def _decimal_arguments(arg: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(arg, (tuple, list)) and len(arg) == 2:
        precision, scale = arg
    elif isinstance(arg, int):
        precision, scale = arg, options.get("scale", DEFAULT_DECIMAL[1])
    else:
        precision = options.get("precision", DEFAULT_DECIMAL[0])
        scale = options.get("scale", DEFAULT_DECIMAL[1])
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (precision, scale)) or not (
        0 < precision and 0 <= scale <= precision
    ):
        raise ValueError("decimal needs 0 < precision and 0 <= scale <= precision")
    return {"precision": precision, "scale": scale}


def _enum_arguments(arg: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    values = arg if arg is not None else options.get("values")
    if not isinstance(values, (list, tuple)) or not values or not all(isinstance(v, str) for v in values):
        raise ValueError("enum needs a non-empty list of string values")
    if len(set(values)) != len(values):
        raise ValueError("enum values repeat")
    return {"values": tuple(values)}


#: the most members a MySQL SET has
MAX_SET_MEMBERS = 64


def _set_arguments(arg: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    values = arg if arg is not None else options.get("values")
    if not isinstance(values, (list, tuple)) or not values or not all(isinstance(v, str) for v in values):
        raise ValueError("set needs a non-empty list of string values")
    if len(set(values)) != len(values):
        raise ValueError("set values repeat")
    if len(values) > MAX_SET_MEMBERS:
        raise ValueError(f"a set has at most {MAX_SET_MEMBERS} values, got {len(values)}")
    bad = next((v for v in values if "," in v), None)
    if bad is not None:
        raise ValueError(f"set value {bad!r} holds a comma (a set's value is its members joined by commas)")
    return {"values": tuple(values)}


def _fraction_arguments(arg: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    """A time or timestamp's fractional seconds: ``column("timestamp", 3)`` or
    ``precision=3`` (0..6); none given: the database's default (6)."""
    precision = arg if arg is not None else options.get("precision")
    if precision is None:
        return {}
    if not isinstance(precision, int) or isinstance(precision, bool) or not 0 <= precision <= MAX_FRACTION:
        raise ValueError(f"fractional seconds precision must be an integer from 0 to {MAX_FRACTION}, got {precision!r}")
    # 6 is what a time or timestamp that says none keeps wherever modelmig renders it: one state for both
    return {} if precision == MAX_FRACTION else {"precision": precision}


def _builtin_value_problem(col: Any, value: Any) -> str | None:
    t = col.type
    if getattr(col, "array", False):  # an array's default is the database's text of it ('{1,2}')
        return None if isinstance(value, str) else f"{value!r} is not the text of an array"
    if isinstance(value, bool) and t != "boolean":
        return f"{value!r} is a boolean, the column is {t}"
    if t in INTEGER_RANGES:
        low, high = INTEGER_RANGES[t]
        if not isinstance(value, int):
            return f"{value!r} is not an integer"
        if not low <= value <= high:
            return f"{value} is outside the range of {t} ({low}..{high})"
    elif t in ("decimal", "float", "double"):
        if isinstance(value, str):
            try:
                number = Decimal(value)
            except InvalidOperation:
                return f"{value!r} is not a number"
        elif isinstance(value, (int, float)):
            number = Decimal(str(value))
        else:
            return f"{value!r} is not a number"
        if not number.is_finite():
            return f"{value!r} is not a finite number"
        if t == "decimal" and col.precision is not None and col.scale is not None:
            digits = len(number.quantize(Decimal(1).scaleb(-col.scale)).as_tuple().digits)
            if number.as_tuple().exponent < -col.scale:  # type: ignore[operator]
                return f"{value!r} has more than {col.scale} decimal places"
            if digits > col.precision:
                return f"{value!r} does not fit decimal({col.precision}, {col.scale})"
    elif t == "boolean":
        if not isinstance(value, bool):
            return f"{value!r} is not True or False"
    elif t == "year":
        if _year(value, str(value)) is None:
            return f"{value!r} is not a year (1901..2155, or 0)"
    else:
        if not isinstance(value, str):
            return f"{value!r} is not a string"
        if t in BYTE_STRINGS and col.length is not None and len(value.encode("utf-8")) > col.length:
            return f"{value!r} is longer than {col.length} bytes"
        if t == "set" and col.values is not None:
            stray = next((v for v in value.split(",") if v and v not in col.values), None)
            if stray is not None:
                return f"{value!r}: {stray!r} is not one of the set values"
        if t in ("inet", "cidr"):
            try:
                (ipaddress.ip_interface if t == "inet" else ipaddress.ip_network)(value)
            except ValueError:
                return f"{value!r} is not a valid {t}"
        if t in ("string", "char") and col.length is not None and len(value) > col.length:
            return f"{value!r} is longer than {col.length} characters"
        if t == "enum" and col.values is not None and value not in col.values:
            return f"{value!r} is not one of the enum values"
        if t in FRACTIONAL_TYPES and not _fraction_fits(None, value, _fraction(col)):
            return f"{value!r} has more fractional digits than {_fraction(col)}"
        parse = {
            "uuid": uuid.UUID,
            "date": date.fromisoformat,
            "time": time.fromisoformat,
            "timestamp": datetime.fromisoformat,
            "utcTimestamp": datetime.fromisoformat,
        }.get(t)
        if parse is not None:
            try:
                parse(value)
            except ValueError:
                return f"{value!r} is not a valid {t}"
    return None


class BuiltinType(ColumnType):
    """A type of the core's own vocabulary: its arguments, value checks, narrowing
    and fit tests are the tables of this module."""

    def __init__(
        self,
        name: str,
        *,
        arguments: Callable[[Any, Mapping[str, Any]], dict[str, Any]] | None = None,
        zero: Any = None,
        key_size: int | None = 8,
        key_bytes: Callable[[Any], int] | None = None,
        state: str | None = None,
        implied: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(name, state=state, implied=implied, zero=zero, key_size=key_size)
        self._arguments = arguments
        self._key_bytes = key_bytes

    def arguments(self, arg: Any, options: Mapping[str, Any]) -> dict[str, Any]:
        if self._arguments is None:
            return super().arguments(arg, options)
        return self._arguments(arg, options)

    def value_problem(self, column: Any, value: Any) -> str | None:
        return _builtin_value_problem(column, value)

    def zero_value(self, column: Any) -> Any:
        if getattr(column, "array", False):
            return "{}"  # the empty array
        if self.state == "enum":
            return column.values[0] if column.values else None
        return self.zero

    def key_bytes(self, column: Any) -> int | None:
        return self._key_bytes(column) if self._key_bytes is not None else self.key_size

    def same(self, a: Any, b: Any) -> bool:
        if self.state in ("decimal", "float", "double") and not isinstance(a, bool) and not isinstance(b, bool):
            try:
                return Decimal(str(a)) == Decimal(str(b))  # 0, 0.0 and "0.00" are one number
            except InvalidOperation:
                pass
        return super().same(a, b)

    def widens(self, old: Any, new: Any) -> bool:
        return _builtin_widens(old, new)

    def fits(self, old: Any, new: Any) -> Callable[[Any, str | None], bool]:
        return _builtin_fits(old, new)

    def label(self, column: Any) -> str:
        return _builtin_label(column)


_INTEGER = {"increments": "integer", "bigIncrements": "bigInteger"}

#: the core's column types, registered through the ``column_types`` hook (``builtin.py``)
BUILTIN_TYPES: tuple[ColumnType, ...] = (
    BuiltinType("integer", zero=0, key_size=4),
    BuiltinType("bigInteger", zero=0, key_size=8),
    BuiltinType("smallInteger", zero=0, key_size=2),
    BuiltinType("tinyInteger", zero=0, key_size=1),
    BuiltinType("unsignedTinyInteger", zero=0, key_size=1),
    BuiltinType("unsignedSmallInteger", zero=0, key_size=2),
    BuiltinType("unsignedInteger", zero=0, key_size=4),
    BuiltinType("unsignedBigInteger", zero=0, key_size=8),
    BuiltinType("string", zero="", arguments=_string_arguments, key_bytes=lambda c: 4 * (c.length or 255)),
    BuiltinType("text", zero="", key_size=None),
    # fixed-length text, blank-padded by the database: CHAR(n)
    BuiltinType("char", zero="", arguments=_string_arguments, key_bytes=lambda c: 4 * (c.length or 255)),
    BuiltinType("boolean", zero=False, key_size=1),
    BuiltinType("decimal", zero=0, arguments=_decimal_arguments, key_bytes=lambda c: (c.precision or 8) // 2 + 1),
    BuiltinType("float", zero=0, key_size=4),
    BuiltinType("double", zero=0, key_size=8),
    BuiltinType("date", zero="1970-01-01", key_size=3),
    BuiltinType("time", zero="00:00:00", key_size=6, arguments=_fraction_arguments),
    BuiltinType("timestamp", zero="1970-01-01 00:00:00", key_size=8, arguments=_fraction_arguments),
    # MySQL's TIMESTAMP (kept in UTC, 1970 to 2038) as distinct from its DATETIME: refused elsewhere
    BuiltinType("utcTimestamp", zero="1970-01-01 00:00:01", key_size=4, arguments=_fraction_arguments),
    BuiltinType("json", zero="{}", key_size=None),
    BuiltinType("uuid", zero="00000000-0000-0000-0000-000000000000", key_size=36 * 4),  # CHAR(36) in utf8mb4
    BuiltinType("binary", zero="", key_size=None),
    # MySQL's larger text and blob sizes (16 MB, 4 GB): refused on the databases without them
    BuiltinType("mediumText", zero="", key_size=None),
    BuiltinType("longText", zero="", key_size=None),
    BuiltinType("mediumBinary", zero="", key_size=None),
    BuiltinType("longBinary", zero="", key_size=None),
    BuiltinType("enum", arguments=_enum_arguments, key_size=2),
    # MySQL's SET and YEAR: refused on the databases without them
    BuiltinType("set", zero="", arguments=_set_arguments, key_size=8),
    BuiltinType("year", zero=1970, key_size=1),
    # byte strings of a bounded length, MySQL's VARBINARY(n) and (zero-padded) BINARY(n)
    BuiltinType("varbinary", zero="", arguments=_string_arguments, key_bytes=lambda c: c.length or 255),
    BuiltinType("fixedBinary", zero="", arguments=_string_arguments, key_bytes=lambda c: c.length or 255),
    # PostgreSQL's own: json kept as written (``json``; modelmig's json is jsonb there),
    # network addresses, text search vectors and intervals
    BuiltinType("jsonText", zero="{}", key_size=None),
    BuiltinType("inet", zero="0.0.0.0", key_size=19),
    BuiltinType("cidr", zero="0.0.0.0/32", key_size=19),
    BuiltinType("macaddr", zero="00:00:00:00:00:00", key_size=6),
    BuiltinType("tsvector", zero="", key_size=None),
    BuiltinType("interval", zero="0", key_size=16),
    # aliases: a state type with implied options
    *(
        BuiltinType(alias, state=state, implied={"primary": True, "autoincrement": True}, zero=0)
        for alias, state in _INTEGER.items()
    ),
    BuiltinType("softDeletes", state="timestamp", arguments=_fraction_arguments),
)

# logical type -> (state type, implied options), kept for readers of the old table
COLUMN_TYPES: dict[str, tuple[str, dict[str, Any]]] = {t.name: (t.state, dict(t.implied)) for t in BUILTIN_TYPES}
# Types every driver must render (the state types of the built-in types).
STATE_TYPES = frozenset(t.state for t in BUILTIN_TYPES)

_REGISTERED: dict[str, ColumnType] = {t.name: t for t in BUILTIN_TYPES}


def as_column_type(entry: ColumnType | str) -> ColumnType:
    """A ``column_types`` hook entry as a type object: a bare name (the older form)
    is a type without arguments that a ``render_column`` hook renders."""
    if isinstance(entry, ColumnType):
        return entry
    if isinstance(entry, str) and entry.isidentifier():
        made = ColumnType(entry)
        made.hook_rendered = True
        return made
    raise ConfigError(f"a column_types hook returned {entry!r}: expected a ColumnType (modelmig_core.api)")


def register(entries: Iterable[Iterable[ColumnType | str]]) -> dict[str, ColumnType]:
    """The types the ``column_types`` hook answered (one iterable per plugin), by
    name; each is remembered process-wide (``type_of``) so that the renderers,
    rollbacks and key rules of this process know them. Two different types under
    one name, or an entry that is neither a ColumnType nor a name, are a
    ConfigError."""
    out: dict[str, ColumnType] = {}
    for group in entries:
        for entry in group or ():
            t = as_column_type(entry)
            seen = out.get(t.name)
            if seen is not None and seen is not t:
                raise ConfigError(f"column type {t.name!r} is registered twice ({seen!r} and {t!r})")
            out[t.name] = t
    for name, t in out.items():
        if not (t.hook_rendered and name in _REGISTERED and not _REGISTERED[name].hook_rendered):
            _REGISTERED[name] = t
    return out


def registered_types() -> list[ColumnType]:
    """Every type registered in this process, built-in ones first."""
    return list(_REGISTERED.values())


def is_registered(name: str) -> bool:
    """Whether ``name`` is a type registered in this process (built-in or a plugin's)."""
    return name in _REGISTERED


def type_of(name: str) -> ColumnType:
    """The registered type of a state Column's ``type``; a name no plugin of this
    process registered (a type reflected from a live database) is a bare
    ``ColumnType`` that narrows on any change and renders nowhere."""
    known = _REGISTERED.get(name)
    return known if known is not None else ColumnType(name) if name.isidentifier() else _Unnamed(name)


class _Unnamed(ColumnType):
    """A type read back from a database under a name that is no identifier
    (``character varying[]``): known by that spelling only."""

    def __init__(self, name: str) -> None:
        super().__init__("unnamed")
        self.name = self.state = name
