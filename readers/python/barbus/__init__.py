"""barbus: read a barbus shared-memory market-data bus from Python.

    import barbus
    bus = barbus.Bus("demo")
    bus.latest("SYM0001")
    bus.bars("SYM0001", interval="5m", as_frame=True)

Everything that must not tear (seqlock copies, ring following) is done by
libbarbus.so through ctypes: one implementation of the protocol. numpy
makes arrays (and is faster); without it, lists of named tuples. Times are
nanoseconds since 1970 UTC (datetime64[ns] in arrays). See docs/python.md.
"""
from ._lib import BarbusError, BusMissing, WriterDead, lib_path, strerror
from ._records import (Bar, BarList, Event, flag_words, to_bars, frame_of, FILLED, SYNTHETIC,
                       PARTIAL, LATE, BAR_DTYPE, RAW_DTYPE, np as _np)
from ._bus import (Bus, Session, Writer, QualityRow, STATES,
                   interval_minutes)

HAVE_NUMPY = _np is not None
__version__ = "0.1.0"
__all__ = ["Bus", "Bar", "BarList", "Event", "Session", "Writer",
           "QualityRow", "BarbusError", "BusMissing", "WriterDead",
           "strerror", "flag_words", "to_bars", "frame_of", "interval_minutes", "FILLED",
           "SYNTHETIC", "PARTIAL", "LATE", "BAR_DTYPE", "RAW_DTYPE",
           "STATES", "HAVE_NUMPY", "lib_path"]
