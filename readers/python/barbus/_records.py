"""Bars, events and their array forms: numpy structured arrays when numpy
is there, lists of named tuples otherwise (the same values)."""
import collections
import os
import struct

try:
    if os.environ.get("BARBUS_NO_NUMPY"):
        raise ImportError("BARBUS_NO_NUMPY set")
    import numpy as np
except ImportError:
    np = None

NS = 1_000_000_000
FILLED, SYNTHETIC, PARTIAL, LATE = 1, 2, 4, 8
FLAG_NAMES = (("filled", FILLED), ("synthetic", SYNTHETIC),
              ("partial", PARTIAL), ("late", LATE))
KIND_SHIFT = 24
KIND_BAR, KIND_MINUTE_END, KIND_SESSION_START, KIND_SESSION_END = 0, 1, 2, 3
BAR_STRUCT = struct.Struct("<IIqddddd")  # bb_bar, 56 bytes
FIELDS = ("symbol", "flags", "time", "open", "high", "low", "close", "volume")


class Bar(collections.namedtuple("Bar", FIELDS)):
    """One bar. time: interval start, nanoseconds since 1970 UTC (int);
    symbol: the bus's symbol id; flags: bb_bar_flag bits."""
    __slots__ = ()

    @property
    def flag_names(self):
        """"filled|late" style words, "" for a plain bar."""
        return flag_words(self.flags)


def flag_words(flags):
    return "|".join(n for n, bit in FLAG_NAMES if flags & bit)


def bar_from(raw):
    """A Bar from one 56-byte bb_bar in a buffer (time made nanoseconds)."""
    s, f, t, o, h, lo, c, v = BAR_STRUCT.unpack_from(raw)
    return Bar(s, f, t * NS, o, h, lo, c, v)


class Event(collections.namedtuple(
        "Event", "kind time count session bars", defaults=(None, None))):
    """A ring event. kind: "minute_end" (time: the minute now complete,
    count: bars in it; bars: the bars read since the previous minute end,
    from wait_minute_end), "session_start" / "session_end" (session: a
    Session), "epoch" (count: the new writer epoch), "lapped" (count: the
    exact number of records lost)."""
    __slots__ = ()


def frame_of(bars):
    """A pandas DataFrame of bars: a UTC DatetimeIndex named "time" (the
    interval starts, as pandas' resample labels them), columns open, high,
    low, close, volume, symbol (id) and the flags as booleans filled,
    synthetic, partial, late."""
    import pandas as pd
    if np is not None and isinstance(bars, np.ndarray):
        time, cols = bars["time"], {k: np.asarray(bars[k]) for k in FIELDS[3:]}
        sym, flags = np.asarray(bars["symbol"]), np.asarray(bars["flags"])
        fl = {n: (flags & bit) != 0 for n, bit in FLAG_NAMES}
        time = np.asarray(time).astype("datetime64[ns]")
    else:
        time = [b.time for b in bars]
        cols = {k: [getattr(b, k) for b in bars] for k in FIELDS[3:]}
        sym = [b.symbol for b in bars]
        fl = {n: [bool(b.flags & bit) for b in bars] for n, bit in FLAG_NAMES}
    idx = pd.DatetimeIndex(pd.to_datetime(time, utc=True), name="time")
    df = pd.DataFrame(cols, index=idx)
    df["symbol"] = sym
    for n, v in fl.items():
        df[n] = v
    return df


class BarList(list):
    """Bars as a list of Bar (no numpy)."""

    def to_pandas(self):
        return frame_of(self)


if np is not None:
    RAW_DTYPE = np.dtype([("symbol", "<u4"), ("flags", "<u4"), ("time", "<i8"),
                          ("open", "<f8"), ("high", "<f8"), ("low", "<f8"),
                          ("close", "<f8"), ("volume", "<f8")])
    BAR_DTYPE = np.dtype([("symbol", "<u4"), ("flags", "<u4"),
                          ("time", "<M8[ns]"), ("open", "<f8"), ("high", "<f8"),
                          ("low", "<f8"), ("close", "<f8"), ("volume", "<f8")])
    assert RAW_DTYPE.itemsize == 56 and BAR_DTYPE.itemsize == 56

    class BarArray(np.ndarray):
        """A numpy structured array of bars (dtype BAR_DTYPE, the bb_bar
        layout with time in datetime64[ns] UTC) with .to_pandas()."""

        def to_pandas(self):
            return frame_of(self.view(np.ndarray))

    def raw_buffer(rows):
        """A C buffer of rows bb_bar records, as int64 words (7 per bar):
        plain copies and column arithmetic stay on numpy's fast paths."""
        return np.empty((rows, 7), "<i8")

    def finish(words):
        """Owned int64 words of bars: times (word 1) from seconds to
        nanoseconds in place, then viewed as BarArray (BAR_DTYPE)."""
        words[:, 1] *= NS
        return words.view(dtype=BAR_DTYPE, type=BarArray)[:, 0]

    def kinds(words):
        """The record kinds (flags >> 24) of int64 words of records."""
        return words[:, 0] >> 56

    def symbols_of(words):
        return words[:, 0] & 0xffffffff
else:
    RAW_DTYPE = BAR_DTYPE = BarArray = None

    def finish(raw):
        raise RuntimeError("numpy is not available")


def as_list(buf, n):
    """Bars 0..n-1 of a ctypes bb_bar array as a BarList."""
    mv = memoryview(buf).cast("B")[:n * 56]
    return BarList(Bar(s, f, t * NS, o, h, lo, c, v)
                   for s, f, t, o, h, lo, c, v in BAR_STRUCT.iter_unpack(mv))


def to_bars(bars):
    """A list of Bar from an array or list of bars."""
    if np is not None and isinstance(bars, np.ndarray):
        return [Bar(*r) for r in
                bars.view(np.ndarray).view(RAW_DTYPE).tolist()]
    return list(bars)
