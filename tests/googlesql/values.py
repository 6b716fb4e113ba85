"""BigQuery type names and Python values, to and from ZetaSQL's TypeProto and ValueProto.

Python side, as the BigQuery client returns them: INT64 int, FLOAT64 float,
NUMERIC/BIGNUMERIC Decimal, BOOL bool, STRING str, BYTES bytes, DATE date,
DATETIME naive datetime, TIME time, TIMESTAMP aware datetime in UTC, JSON the
parsed value, ARRAY list, STRUCT dict (an anonymous field is `_field_N`, as
BigQuery names it), NULL None.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from decimal import Decimal
from typing import Any

from tests.googlesql import protos

_SCALARS = {
    "INT64": "TYPE_INT64",
    "FLOAT64": "TYPE_DOUBLE",
    "NUMERIC": "TYPE_NUMERIC",
    "BIGNUMERIC": "TYPE_BIGNUMERIC",
    "BOOL": "TYPE_BOOL",
    "STRING": "TYPE_STRING",
    "BYTES": "TYPE_BYTES",
    "DATE": "TYPE_DATE",
    "DATETIME": "TYPE_DATETIME",
    "TIME": "TYPE_TIME",
    "TIMESTAMP": "TYPE_TIMESTAMP",
    "JSON": "TYPE_JSON",
    "GEOGRAPHY": "TYPE_GEOGRAPHY",
    "INTERVAL": "TYPE_INTERVAL",
}
# BigQuery's legacy and alias spellings in schemas.
_ALIASES = {"INTEGER": "INT64", "INT": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "DECIMAL": "NUMERIC", "BIGDECIMAL": "BIGNUMERIC"}
_NAMES = {kind: name for name, kind in _SCALARS.items()}
_TOKEN = re.compile(r"\s*(?:(<|>|,)|(`[^`]*`|[A-Za-z_][A-Za-z_0-9]*))")
_EPOCH_DATE = dt.date(1970, 1, 1)
_NUMERIC_SCALE = {"TYPE_NUMERIC": 10**9, "TYPE_BIGNUMERIC": 10**38}
# Decimal's default 28 digits would round BIGNUMERIC (76 digits) on the way in and out.
_EXACT = decimal.Context(prec=100)


def _pb() -> protos.Modules:
    return protos.load()


# --- types -------------------------------------------------------------------------------------


def parse_type(text: str) -> Any:
    """`ARRAY<STRUCT<a INT64, b STRING>>` -> TypeProto."""
    tokens = [m.group(1) or m.group(2) for m in _TOKEN.finditer(text)]
    if "".join(tokens) != re.sub(r"\s+", "", text):
        raise ValueError(f"not a BigQuery type: {text!r}")
    pos = 0

    def take(expected: str | None = None) -> str:
        nonlocal pos
        if pos >= len(tokens) or (expected is not None and tokens[pos].upper() != expected):
            raise ValueError(f"not a BigQuery type: {text!r} (expected {expected or 'more'} at token {pos})")
        pos += 1
        return tokens[pos - 1]

    def one() -> Any:
        tp = _pb().type
        word = take().upper()
        word = _ALIASES.get(word, word)
        if word == "ARRAY":
            take("<")
            element = one()
            take(">")
            return tp.TypeProto(type_kind=tp.TYPE_ARRAY, array_type=tp.ArrayTypeProto(element_type=element))
        if word == "STRUCT":
            take("<")
            fields = []
            while True:
                # A field is `name TYPE` or, anonymous, just `TYPE` (as ZetaSQL spells STRUCT(1, 'x' AS y)).
                anonymous = pos + 1 < len(tokens) and tokens[pos + 1] in (",", ">", "<")
                name = "" if anonymous else take().strip("`")
                fields.append(tp.StructFieldProto(field_name=name, field_type=one()))
                if take() == ">":
                    break
            return tp.TypeProto(type_kind=tp.TYPE_STRUCT, struct_type=tp.StructTypeProto(field=fields))
        if word not in _SCALARS:
            raise ValueError(f"not a BigQuery type: {text!r} ({word})")
        return tp.TypeProto(type_kind=tp.TypeKind.Value(_SCALARS[word]))

    result = one()
    if pos != len(tokens):
        raise ValueError(f"not a BigQuery type: {text!r} (trailing {tokens[pos:]})")
    return result


def type_name(type_proto: Any) -> str:
    """TypeProto -> BigQuery's spelling."""
    tp = _pb().type
    kind = tp.TypeKind.Name(type_proto.type_kind)
    if type_proto.type_kind == tp.TYPE_ARRAY:
        return f"ARRAY<{type_name(type_proto.array_type.element_type)}>"
    if type_proto.type_kind == tp.TYPE_STRUCT:
        fields = (f"{f.field_name} {type_name(f.field_type)}".strip() for f in type_proto.struct_type.field)
        return f"STRUCT<{', '.join(fields)}>"
    return _NAMES.get(kind, kind)


def infer_type(value: Any) -> Any:
    """The type of a query parameter from its Python value (use `Param` when ambiguous)."""
    if isinstance(value, bool):
        return parse_type("BOOL")
    if isinstance(value, int):
        return parse_type("INT64")
    if isinstance(value, float):
        return parse_type("FLOAT64")
    if isinstance(value, Decimal):
        return parse_type("NUMERIC")
    if isinstance(value, str):
        return parse_type("STRING")
    if isinstance(value, bytes):
        return parse_type("BYTES")
    if isinstance(value, dt.datetime):
        return parse_type("TIMESTAMP")
    if isinstance(value, dt.date):
        return parse_type("DATE")
    tp = _pb().type
    if isinstance(value, list | tuple):
        present = [item for item in value if item is not None]
        if not present:
            raise TypeError("cannot infer the element type of an empty or all-NULL array: pass Param(value, 'ARRAY<...>')")
        return tp.TypeProto(type_kind=tp.TYPE_ARRAY, array_type=tp.ArrayTypeProto(element_type=infer_type(present[0])))
    if isinstance(value, dict):
        fields = [tp.StructFieldProto(field_name=str(k), field_type=infer_type(v)) for k, v in value.items()]
        return tp.TypeProto(type_kind=tp.TYPE_STRUCT, struct_type=tp.StructTypeProto(field=fields))
    raise TypeError(f"cannot infer a GoogleSQL type for {value!r}: pass Param(value, 'TYPE')")


# --- values ------------------------------------------------------------------------------------


def _int_bytes(n: int) -> bytes:
    # ZetaSQL stores NUMERIC/BIGNUMERIC as the scaled integer, little-endian two's complement, shortest form.
    length = max(1, (n.bit_length() + 8) // 8)
    return n.to_bytes(length, "little", signed=True)


def _pack_datetime(value: dt.datetime) -> int:
    return value.year << 26 | value.month << 22 | value.day << 17 | value.hour << 12 | value.minute << 6 | value.second


def _pack_time(value: dt.time) -> int:
    return (value.hour << 12 | value.minute << 6 | value.second) << 30 | value.microsecond * 1000


def to_value(value: Any, type_proto: Any, where: str = "value") -> Any:
    """A Python value of the given type -> ValueProto (None -> NULL)."""
    pb = _pb()
    tp, out = pb.type, pb.value.ValueProto()
    if value is None:
        return out
    kind = type_proto.type_kind

    def bad(expected: str) -> TypeError:
        return TypeError(f"{where}: {type_name(type_proto)} needs {expected}, got {value!r}")

    if kind == tp.TYPE_INT64:
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad("an int")
        out.int64_value = value
    elif kind == tp.TYPE_DOUBLE:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise bad("a float")
        out.double_value = float(value)
    elif kind in (tp.TYPE_NUMERIC, tp.TYPE_BIGNUMERIC):
        if not isinstance(value, int | Decimal | str) or isinstance(value, bool):
            raise bad("a Decimal")
        with decimal.localcontext(_EXACT):
            scaled = Decimal(value) * _NUMERIC_SCALE[tp.TypeKind.Name(kind)]
        if scaled != scaled.to_integral_value():
            raise bad("a value within the type's scale")
        data = _int_bytes(int(scaled))
        if kind == tp.TYPE_NUMERIC:
            out.numeric_value = data
        else:
            out.bignumeric_value = data
    elif kind == tp.TYPE_BOOL:
        if not isinstance(value, bool):
            raise bad("a bool")
        out.bool_value = value
    elif kind == tp.TYPE_STRING:
        if not isinstance(value, str):
            raise bad("a str")
        out.string_value = value
    elif kind == tp.TYPE_BYTES:
        if not isinstance(value, bytes | bytearray):
            raise bad("bytes")
        out.bytes_value = bytes(value)
    elif kind == tp.TYPE_DATE:
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise bad("a date")
        out.date_value = (value - _EPOCH_DATE).days
    elif kind == tp.TYPE_DATETIME:
        if not isinstance(value, dt.datetime) or value.tzinfo is not None:
            raise bad("a naive datetime")
        out.datetime_value.bit_field_datetime_seconds = _pack_datetime(value)
        out.datetime_value.nanos = value.microsecond * 1000
    elif kind == tp.TYPE_TIME:
        if not isinstance(value, dt.time):
            raise bad("a time")
        out.time_value = _pack_time(value)
    elif kind == tp.TYPE_TIMESTAMP:
        if not isinstance(value, dt.datetime):
            raise bad("a datetime")
        # A naive datetime is taken as UTC, BigQuery's zone for TIMESTAMP literals.
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        out.timestamp_value.FromDatetime(aware.astimezone(dt.UTC))
    elif kind == tp.TYPE_JSON:
        out.json_value = json.dumps(value, separators=(",", ":"))
    elif kind == tp.TYPE_ARRAY:
        if not isinstance(value, list | tuple):
            raise bad("a list")
        out.array_value.SetInParent()
        element = type_proto.array_type.element_type
        out.array_value.element.extend(to_value(item, element, f"{where}[{i}]") for i, item in enumerate(value))
    elif kind == tp.TYPE_STRUCT:
        fields = type_proto.struct_type.field
        if isinstance(value, dict):
            names = [_field_name(f.field_name, i) for i, f in enumerate(fields)]
            unknown = set(value) - set(names)
            if unknown:
                raise bad(f"fields {names}, not {sorted(unknown)}")
            items = [value.get(name) for name in names]
        elif isinstance(value, list | tuple) and len(value) == len(fields):
            items = list(value)
        else:
            raise bad(f"a dict or a tuple of {len(fields)}")
        out.struct_value.SetInParent()
        out.struct_value.field.extend(
            to_value(item, f.field_type, f"{where}.{_field_name(f.field_name, i)}") for i, (item, f) in enumerate(zip(items, fields, strict=True))
        )
    else:
        raise TypeError(f"{where}: {type_name(type_proto)} values are not supported by this harness")
    return out


def _field_name(name: str, index: int) -> str:
    return name or f"_field_{index + 1}"


def from_value(value_proto: Any, type_proto: Any) -> Any:
    """ValueProto of the given type -> the Python value (NULL -> None)."""
    tp = _pb().type
    which = value_proto.WhichOneof("value")
    if which is None:
        return None
    kind = type_proto.type_kind
    if kind == tp.TYPE_ARRAY:
        element = type_proto.array_type.element_type
        return [from_value(item, element) for item in value_proto.array_value.element]
    if kind == tp.TYPE_STRUCT:
        fields = type_proto.struct_type.field
        return {
            _field_name(f.field_name, i): from_value(item, f.field_type)
            for i, (item, f) in enumerate(zip(value_proto.struct_value.field, fields, strict=True))
        }
    if which in ("numeric_value", "bignumeric_value"):
        scaled = int.from_bytes(getattr(value_proto, which), "little", signed=True)
        with decimal.localcontext(_EXACT):
            number = (Decimal(scaled) / _NUMERIC_SCALE[tp.TypeKind.Name(kind)]).normalize()
            # normalize() writes 100 as 1E+2; keep whole numbers plain.
            return number.quantize(Decimal(1)) if number.as_tuple().exponent > 0 else number
    if which == "date_value":
        return _EPOCH_DATE + dt.timedelta(days=value_proto.date_value)
    if which == "timestamp_value":
        ts = value_proto.timestamp_value
        # Microseconds: what BigQuery stores; datetime cannot hold nanoseconds anyway.
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)
    if which == "datetime_value":
        bits, nanos = value_proto.datetime_value.bit_field_datetime_seconds, value_proto.datetime_value.nanos
        return dt.datetime(bits >> 26, bits >> 22 & 0xF, bits >> 17 & 0x1F, bits >> 12 & 0x1F, bits >> 6 & 0x3F, bits & 0x3F, nanos // 1000)
    if which == "time_value":
        bits = value_proto.time_value
        seconds = bits >> 30
        return dt.time(seconds >> 12 & 0x1F, seconds >> 6 & 0x3F, seconds & 0x3F, (bits & 0x3FFFFFFF) // 1000)
    if which == "json_value":
        return json.loads(value_proto.json_value)
    if which in ("int64_value", "double_value", "bool_value", "string_value", "bytes_value"):
        return getattr(value_proto, which)
    raise TypeError(f"{type_name(type_proto)} values are not supported by this harness ({which})")
