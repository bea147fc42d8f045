"""JSON-safe encoding of the values that results carry (frames, periods, arrays, NaN).

:func:`encode` turns DataFrames, Series, Periods, numpy scalars/arrays and NaN into plain
JSON types with small tagged dicts; :func:`decode` restores them. Used by
:meth:`utvardering.Effect.to_dict` / :meth:`~utvardering.Effect.from_dict`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .data.timeparse import period_freq

__all__ = ["decode", "encode"]


#: Column name under which an unnamed, non-default index is stored.
_UNNAMED_INDEX = "__index__"


def _default_index(index: pd.Index) -> bool:
    """True for the 0..n-1 RangeIndex that ``reset_index(drop=True)`` would recreate."""
    return (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
            and index.name is None)


def _encode_column(values: pd.Series) -> dict:
    if isinstance(values.dtype, pd.PeriodDtype):
        return {"kind": "period", "freq": period_freq(values.dtype), "values": values.astype(str).tolist()}
    if pd.api.types.is_datetime64_any_dtype(values):
        return {"kind": "datetime", "values": [None if pd.isna(v) else v.isoformat() for v in values]}
    if pd.api.types.is_bool_dtype(values):
        return {"kind": "bool", "values": [bool(v) for v in values]}
    if pd.api.types.is_numeric_dtype(values):
        kind = "int" if pd.api.types.is_integer_dtype(values) else "float"
        return {"kind": kind, "values": [encode(v) for v in values.tolist()]}
    return {"kind": "object", "values": [encode(v) for v in values.tolist()]}


def _decode_column(column: dict) -> pd.Series:
    kind, values = column["kind"], column["values"]
    if kind == "period":
        return pd.Series(pd.PeriodIndex(values, freq=column["freq"]))
    if kind == "datetime":
        return pd.Series(pd.to_datetime(values))
    if kind == "float":
        return pd.Series([np.nan if v is None else v for v in values], dtype=float)
    if kind == "int":
        return pd.Series(values, dtype="int64")
    if kind == "bool":
        return pd.Series(values, dtype=bool)
    return pd.Series([decode(v) for v in values])


def encode(value: Any) -> Any:
    """Encode ``value`` into JSON-serialisable types (NaN becomes ``None``)."""
    if isinstance(value, pd.DataFrame):
        names = [n for n in value.index.names]
        out: dict[str, Any] = {"__frame__": True}
        if any(n is not None for n in names):
            flat = value.reset_index()
            out["index"] = [n for n in names if n is not None]
        elif _default_index(value.index):
            flat = value.reset_index(drop=True)
            out["index"] = []
        else:  # unnamed labels (e.g. a vcov's term names): kept under a reserved column
            flat = value.copy()
            flat.insert(0, _UNNAMED_INDEX, value.index.to_numpy())
            flat = flat.reset_index(drop=True)
            out["index"] = [_UNNAMED_INDEX]
        out["columns"] = [str(c) for c in flat.columns]
        out["data"] = {str(c): _encode_column(flat[c]) for c in flat.columns}
        return out
    if isinstance(value, pd.Series):
        return {"__series__": encode(value.to_frame(name=value.name if value.name is not None else "value"))}
    if isinstance(value, pd.Period):
        return {"__period__": str(value), "freq": value.freqstr}
    if isinstance(value, pd.Timestamp):
        return {"__timestamp__": value.isoformat()}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, np.ndarray):
        return [encode(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(float(value)) or math.isinf(float(value)) else float(value)
    if value is None or isinstance(value, (str, int)):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def decode(value: Any) -> Any:
    """Inverse of :func:`encode` for the tagged structures."""
    if isinstance(value, dict):
        if value.get("__frame__"):
            frame = pd.DataFrame({c: _decode_column(value["data"][c]) for c in value["columns"]})
            if value["index"]:
                frame = frame.set_index(value["index"])
                if value["index"] == [_UNNAMED_INDEX]:
                    frame.index.name = None
            return frame
        if "__series__" in value:
            frame = decode(value["__series__"])
            return frame.iloc[:, 0]
        if "__period__" in value:
            return pd.Period(value["__period__"], freq=value["freq"])
        if "__timestamp__" in value:
            return pd.Timestamp(value["__timestamp__"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value
