"""ctypes binding of libbarbus.so: structures, prototypes and errors.

The library is found, in order: $BARBUS_LIB (a path to the .so), next to
this package (an installed copy), the build directory of the source tree
(build/libbarbus.so when the package runs from readers/python/), then the
system's loader path (libbarbus.so, as `make install` puts it).
"""
import ctypes
import os

_HERE = os.path.dirname(os.path.abspath(__file__))


class BarbusError(Exception):
    """A libbarbus error: code is the library's (errno > 0, BB_E* < 0),
    the message is bb_strerror()'s, with what was being done."""

    def __init__(self, code, what=""):
        self.code = code
        self.reason = strerror(code)
        super().__init__(f"{what}: {self.reason}" if what else self.reason)


class WriterDead(BarbusError):
    """The bus's writer is gone and nothing is left to read."""


class BusMissing(BarbusError, FileNotFoundError):
    """No such bus (or not yet published)."""


def _candidates():
    env = os.environ.get("BARBUS_LIB")
    if env:
        yield env
        return
    yield os.path.join(_HERE, "libbarbus.so")
    root = os.path.dirname(os.path.dirname(os.path.dirname(_HERE)))
    for b in ("build", "build-address", "build-clang"):
        yield os.path.join(root, b, "libbarbus.so")
    yield "libbarbus.so"


def _load():
    errs = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            errs.append(f"{path}: no such file")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            errs.append(str(e))
    raise ImportError("barbus: cannot load libbarbus.so (set BARBUS_LIB): "
                      + "; ".join(errs))


lib, lib_path = _load()


class Bar(ctypes.Structure):
    _fields_ = [("symbol", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("time", ctypes.c_int64), ("open", ctypes.c_double),
                ("high", ctypes.c_double), ("low", ctypes.c_double),
                ("close", ctypes.c_double), ("volume", ctypes.c_double)]


class Status(ctypes.Structure):
    _fields_ = [("date", ctypes.c_int32), ("state", ctypes.c_uint32),
                ("open", ctypes.c_int64), ("close", ctypes.c_int64),
                ("clock", ctypes.c_int64), ("sessions", ctypes.c_uint64),
                ("mode", ctypes.c_uint32), ("history", ctypes.c_uint32),
                ("stalled_since", ctypes.c_int64)]


class Session(ctypes.Structure):
    _fields_ = [("date", ctypes.c_int32), ("flags", ctypes.c_uint32),
                ("open", ctypes.c_int64), ("close", ctypes.c_int64)]


class Quality(ctypes.Structure):
    _fields_ = [("expected", ctypes.c_uint32), ("real", ctypes.c_uint32),
                ("filled", ctypes.c_uint32), ("synthetic", ctypes.c_uint32),
                ("unfillable", ctypes.c_uint32), ("pending", ctypes.c_uint32),
                ("date", ctypes.c_int32), ("late", ctypes.c_uint32),
                ("quality", ctypes.c_double),
                ("quality_with_fills", ctypes.c_double),
                ("underived", ctypes.c_uint32), ("reserved", ctypes.c_uint32)]


class UpkeepInfo(ctypes.Structure):
    _fields_ = [("done_date", ctypes.c_int32), ("state", ctypes.c_uint32),
                ("date", ctypes.c_int32), ("nintervals", ctypes.c_uint32),
                ("sessions_done", ctypes.c_uint64),
                ("bars_seen", ctypes.c_uint64), ("lapped", ctypes.c_uint64),
                ("fills", ctypes.c_uint64), ("unfillable", ctypes.c_uint64)]


assert ctypes.sizeof(Bar) == 56 and ctypes.sizeof(Status) == 56
assert ctypes.sizeof(Quality) == 56 and ctypes.sizeof(UpkeepInfo) == 56

_p = ctypes.c_void_p
_u32, _u64, _i64, _sz = (ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int64,
                         ctypes.c_size_t)
_int, _str = ctypes.c_int, ctypes.c_char_p
_PROTOS = {
    "bb_strerror": (_str, [_int]),
    "bb_bus_name_check": (_int, [_str]),
    "bb_bus_open": (_int, [_p, _str]),
    "bb_bus_close": (None, [_p]),
    "bb_bus_status": (_int, [_p, _p]),
    "bb_bus_epoch": (_u64, [_p]),
    "bb_bus_writer_state": (_int, [_p, _p]),
    "bb_bus_counter": (_u64, [_p, _int]),
    "bb_symbol_count": (_u32, [_p]),
    "bb_symbol_name": (_int, [_p, _u32, _p, _sz]),
    "bb_latest": (_int, [_p, _u32, _p]),
    "bb_count": (_u32, [_p, _u32]),
    "bb_history_session": (_int, [_p, _u32, _p]),
    "bb_upkeep_open": (_int, [_p, _str]),
    "bb_upkeep_close": (None, [_p]),
    "bb_upkeep_status": (_int, [_p, _p]),
    "bb_upkeep_writer_state": (_int, [_p, _p]),
    "bb_upkeep_intervals": (_sz, [_p, _p, _sz]),
    "bb_upkeep_quality": (_int, [_p, _u32, _p]),
    "bb_upkeep_history_days": (_u32, [_p]),
    "bb_bars": (_int, [_p, _p, _u32, _u32, _p, _sz, _p]),
    "bb_bars_history": (_int, [_p, _p, _u32, _u32, _u32, _p, _sz, _p, _p]),
    "bb_ring_reader_open": (_int, [_p, _str, _int, ctypes.c_uint]),
    "bb_ring_reader_close": (None, [_p]),
    "bb_ring_read": (_int, [_p, _p, _p]),
    "bb_ring_wait": (_int, [_p, _p, _p, _i64]),
    "bb_ring_read_n": (_int, [_p, _p, _sz, _p, _p]),
    "bb_ring_wait_n": (_int, [_p, _p, _sz, _p, _p, _i64]),
    "bb_ring_epoch": (_u64, [_p]),
    "bb_follow_open": (_int, [_p, _str, _int, ctypes.c_uint]),
    "bb_follow_close": (None, [_p]),
    "bb_follow_snapshot": (_p, [_p, _p]),
    "bb_follow_next": (_int, [_p, _p, _p, _i64]),
    "bb_ring_writer_state": (_int, [_p, _p]),
}
for _name, (_res, _args) in _PROTOS.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args


# Hot calls without argtypes (ctypes converts nothing): callers pass
# c_void_p handles, ints and byref()s only.
fast = ctypes.CDLL(lib_path)


def strerror(code):
    return lib.bb_strerror(code).decode()


def _codes():
    """BB_E* values by name, from bb_strerror (the enum is not exported):
    the X-macro's order is fixed, BB_ERR_BASE + 1 upwards."""
    names = ["BADMAGIC", "VERSION", "TRUNCATED", "NOTREADY", "ROLE",
             "GEOMETRY", "MISMATCH", "BUSY", "NAME", "INVAL", "EMPTY",
             "LAPPED", "TIMEDOUT", "NOWRITER", "NOTFOUND", "STORE_VERSION",
             "STORE_FULL", "BADSYMBOL", "CALENDAR", "NOSESSION", "END",
             "RETRY", "FULL", "NOINTERVAL", "OWNER", "CORRUPT"]
    return {n: -32000 + 1 + i for i, n in enumerate(names)}


E = _codes()
assert strerror(E["LAPPED"]).startswith("reader was lapped")
assert strerror(E["CORRUPT"]) == "segment content is damaged"
