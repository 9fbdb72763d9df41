"""Logical column types of the DSL and how each normalizes into a state Column."""

from __future__ import annotations

import json
import struct
import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

# logical type -> (state type, implied options)
COLUMN_TYPES: dict[str, tuple[str, dict[str, Any]]] = {
    "increments": ("integer", {"primary": True, "autoincrement": True}),
    "bigIncrements": ("bigInteger", {"primary": True, "autoincrement": True}),
    "integer": ("integer", {}),
    "bigInteger": ("bigInteger", {}),
    "smallInteger": ("smallInteger", {}),
    "string": ("string", {}),
    "text": ("text", {}),
    "boolean": ("boolean", {}),
    "decimal": ("decimal", {}),
    "float": ("float", {}),
    "double": ("double", {}),
    "date": ("date", {}),
    "time": ("time", {}),
    "timestamp": ("timestamp", {}),
    "softDeletes": ("timestamp", {}),
    "json": ("json", {}),
    "uuid": ("uuid", {}),
    "binary": ("binary", {}),
    "enum": ("enum", {}),
}

# Types every driver must render (the state types of COLUMN_TYPES).
STATE_TYPES = frozenset(t for t, _ in COLUMN_TYPES.values())

COLUMN_OPTIONS = frozenset(
    {
        "nullable",
        "default",
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
        "backfill",  # a one-off value for the rows that exist when the column is added (never a default)
    }
)

DEFAULT_STRING_LENGTH = 255
DEFAULT_DECIMAL = (8, 2)


# ---------------------------------------------------------------- what a type change keeps
#
# One table over the logical types and their arguments, kept here (the vocabulary
# redesign can move it onto type objects): ``narrowing`` says, from the two columns
# alone, whether the new type cannot hold every value the old one can (make names it
# as dropping data, the production guard takes it as destructive); ``fits`` says,
# per value read from the database, whether that value survives the change
# unchanged (the run checks every row before it alters the column).

INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "smallInteger": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigInteger": (-(2**63), 2**63 - 1),
}
#: the most characters a value of a type takes as text, where that is known
_TEXT_WIDTH: dict[str, int] = {
    "smallInteger": 6,
    "integer": 11,
    "bigInteger": 20,
    "boolean": 5,
    "uuid": 36,
    "date": 10,
}
#: exactly representable significant digits: float (4 bytes) and double (8 bytes)
_FLOAT_DIGITS = {"float": 6, "double": 15}
_TYPED = ("type", "length", "precision", "scale", "values", "use_tz")


def type_label(col: Any) -> str:
    """The column's type as people write it: ``string(50)``, ``decimal(8, 2)``,
    ``enum('a', 'b')``, ``timestamp with time zone``."""
    t = col.type
    if t == "string":
        return f"string({_length(col)})"
    if t == "decimal":
        p, s = _decimal_args(col)
        return f"decimal({p}, {s})"
    if t == "enum":
        return f"enum({', '.join(repr(v) for v in col.values or ())})"
    if t == "timestamp" and col.use_tz:
        return "timestamp with time zone"
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
    if col.type == "string":
        return _length(col)
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
    if _widens(old, new):
        return None
    return f"{type_label(old)} to {type_label(new)}"


def _widens(old: Any, new: Any) -> bool:
    o, n = old.type, new.type
    if n == "text":
        return o != "binary"  # bytes need not be text
    if n == "string":
        width = _text_width(old)
        return width is not None and width <= _length(new)
    if n in INTEGER_RANGES:
        if o == "boolean":
            return True
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
        return o == "timestamp" and (new.use_tz or not old.use_tz)  # the offset would be lost
    if n == "enum":
        return o == "enum" and set(old.values or ()) <= set(new.values or ())
    return n == o and n in ("boolean", "date", "time", "json", "uuid", "binary")


def fits(old: Any, new: Any) -> Callable[[Any, str | None], bool]:
    """A test of one value (as the driver reads it, and as the server's own text)
    for whether it survives the change from ``old`` to ``new`` unchanged: a string
    no longer than the new length, an integer in range, a number with no more
    decimal places or digits than the new type keeps, a timestamp at midnight for a
    date, an enum value the new enum has, text that parses as JSON or a UUID."""
    n = new.type
    if n == "string":
        limit = _length(new)
        return lambda value, text: text is not None and len(text) <= limit
    if n == "text":
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
    if n == "binary":
        return lambda value, text: isinstance(value, (bytes, bytearray, memoryview)) or "\\" not in (text or "\\")
    return lambda value, text: False  # a type this table does not know: no value is known to fit


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
