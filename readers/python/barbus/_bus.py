"""barbus.Bus: a bus mapped read-only through libbarbus.so."""
import collections
import ctypes
import time as _time

from . import _lib
from ._lib import E, lib, BarbusError, WriterDead, BusMissing
from . import _records as R
from ._records import np, Bar, Event, BarList, NS

STATES = ("none", "preopen", "open", "ended", "timer_expired", "done")
MODES = {1: "backtest", 2: "live"}
WRITER_STATES = ("alive", "stuck", "dead")
WAIT_BLOCK, FROM_OLDEST = 2, 1
SLICE_NS = 200_000_000  # longest single wait in C: Ctrl-C stays prompt
UPKEEP_EXITED = 3       # bb_upkeep_info.state: the upkeep left
SESSION_ROWS = 1441     # a day of minutes, and one
_latest = _lib.fast.bb_latest
_unpack = R.BAR_STRUCT.unpack_from
_EEMPTY = E["EMPTY"]

Session = collections.namedtuple(
    "Session", "date state open close clock sessions mode history "
    "stalled_since")
Session.__doc__ = ("The coordinator's session: date YYYYMMDD (int), state "
                   "(a name from STATES), open/close/clock in ns UTC, ...")
Writer = collections.namedtuple("Writer", "state pid")
QUALITY_FIELDS = ("expected", "real", "late", "filled", "unfillable",
                  "synthetic", "pending", "underived", "quality",
                  "quality_with_fills", "date")
QualityRow = collections.namedtuple("QualityRow", ("symbol",) + QUALITY_FIELDS)


def interval_minutes(iv):
    """"1m", "15m", "1h" or an int of minutes."""
    if isinstance(iv, int) and iv > 0:
        return iv
    s = str(iv).strip().lower()
    if s.endswith("min"):
        s = s[:-2]
    try:
        if s.endswith("m"):
            n = int(s[:-1])
        elif s.endswith("h"):
            n = int(s[:-1]) * 60
        else:
            raise ValueError
    except ValueError:
        raise ValueError(f"interval {iv!r}: not 1m, Nm or Nh") from None
    if n <= 0 or n > 1440:
        raise ValueError(f"interval {iv!r}: not 1 minute to a day")
    return n


def _check(rc, what):
    if rc == 0:
        return
    if rc == E["NOWRITER"]:
        raise WriterDead(rc, what)
    if rc in (2, E["NOTREADY"]):  # ENOENT
        raise BusMissing(rc, what)
    raise BarbusError(rc, what)


class _Reader:
    """A ring reader (blocking: a futex, no spinning core)."""

    def __init__(self, bus, oldest):
        self.bus = bus
        self.h = ctypes.c_void_p()
        deadline = _time.monotonic() + bus._wait
        while True:  # the ring may come a moment after the control segment
            rc = lib.bb_ring_reader_open(ctypes.byref(self.h),
                                         bus.name.encode(), WAIT_BLOCK,
                                         FROM_OLDEST if oldest else 0)
            if rc not in (2, E["NOTREADY"]) or _time.monotonic() >= deadline:
                break
            _time.sleep(0.002)
        _check(rc, f"bus {bus.name}: ring")
        self.epoch = lib.bb_ring_epoch(self.h)
        self.got = ctypes.c_size_t()
        self.lost = ctypes.c_uint64()

    def close(self):
        if self.h:
            lib.bb_ring_reader_close(self.h)
            self.h = ctypes.c_void_p()

    def __del__(self):
        self.close()

    def wait(self, addr, cap, timeout):
        """Records into addr[0..cap): (count, lost, epoch_changed); count 0
        on timeout; WriterDead when the writer is gone mid-session; None
        when it is gone and the bus is finished (nothing will come)."""
        deadline = None if timeout is None else _time.monotonic() + timeout
        while True:
            left = SLICE_NS
            if deadline is not None:
                left = min(left, max(0, int((deadline - _time.monotonic()) * 1e9)))
            rc = lib.bb_ring_wait_n(self.h, addr, cap, ctypes.byref(self.got),
                                    ctypes.byref(self.lost), left)
            lost = 0
            if rc == E["LAPPED"]:
                lost, rc = self.lost.value, 0
            if rc == 0:
                ep = lib.bb_ring_epoch(self.h)
                changed, self.epoch = ep != self.epoch, ep
                return self.got.value, lost, changed
            if rc == E["NOWRITER"]:
                if self.bus.session.state in ("done", "ended",
                                              "timer_expired"):
                    return None
                raise WriterDead(rc, f"bus {self.bus.name}: ring")
            if rc != E["TIMEDOUT"]:
                _check(rc, f"bus {self.bus.name}: ring")
            if deadline is not None and _time.monotonic() >= deadline:
                return 0, 0, False


class _Derived:
    """What a follower has yielded of derived bars: the last time of each
    (symbol, interval); the session the ring is in (cur: date, open and
    close in ns); an ended session the upkeep had not finished 2 s after
    its end (pending: its last bars come once it has, before any of the
    next session's)."""
    __slots__ = ("last", "cur", "pending")

    def __init__(self, cur):
        self.last, self.cur, self.pending = {}, cur, None

    def session_start(self, sess):
        self.cur = sess
        if self.pending is None:  # a pending session's times stay
            self.last.clear()


class Bus:
    """A bus, mapped read-only. Bus(name, wait=0): wait up to `wait`
    seconds for the bus (and later its ring) to appear (BusMissing after);
    from_oldest: the ring readers of follow() and wait_minute_end() start at
    the oldest record the ring still holds instead of the next one written.
    Not thread-safe: one Bus per thread."""

    def __init__(self, name, wait=0, from_oldest=False):
        self.name = name
        self._b = ctypes.c_void_p()
        self._u = ctypes.c_void_p()
        self._oldest = from_oldest
        self._wait = wait
        self._names, self._ids = [], {}
        self._mreader, self._pending = None, []
        deadline = _time.monotonic() + wait
        while True:
            rc = lib.bb_bus_open(ctypes.byref(self._b), name.encode())
            if rc == 0 or _time.monotonic() >= deadline or rc not in (
                    2, E["NOTREADY"]):
                break
            _time.sleep(0.002)
        if rc != 0 and lib.bb_bus_name_check(name.encode()) != 0:
            rc = E["NAME"]
        _check(rc, f"bus {name!r}")
        self._bar = _lib.Bar()
        self._bar_ref = ctypes.byref(self._bar)
        self._got = ctypes.c_size_t()
        self._got_ref = ctypes.byref(self._got)
        self._date = ctypes.c_int32()
        if np is not None:
            self._scratch = R.raw_buffer(SESSION_ROWS)
            self._scratch_addr = self._scratch.ctypes.data
        else:
            self._scratch = (_lib.Bar * SESSION_ROWS)()
            self._scratch_addr = ctypes.addressof(self._scratch)
        self._upkeep()

    # ---- life ----------------------------------------------------------
    def close(self):
        if self._mreader is not None:
            self._mreader.close()
            self._mreader = None
        if self._u:
            lib.bb_upkeep_close(self._u)
            self._u = ctypes.c_void_p()
        if self._b:
            lib.bb_bus_close(self._b)
            self._b = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def _upkeep(self):
        """The upkeep's segments, mapped once they exist (None before)."""
        if not self._u:
            if lib.bb_upkeep_open(ctypes.byref(self._u), self.name.encode()):
                self._u = ctypes.c_void_p()
        return self._u

    # ---- what the bus is ----------------------------------------------
    @property
    def symbols(self):
        """Symbol names, by id."""
        n = lib.bb_symbol_count(self._b)
        buf = ctypes.create_string_buffer(64)
        for i in range(len(self._names), n):
            _check(lib.bb_symbol_name(self._b, i, buf, 64), f"symbol {i}")
            self._names.append(buf.value.decode())
            self._ids[self._names[-1]] = i
        return list(self._names)

    def symbol_id(self, sym):
        if isinstance(sym, int):
            return sym
        i = self._ids.get(sym)
        if i is None:
            self.symbols
            i = self._ids.get(sym)
            if i is None:
                raise KeyError(f"bus {self.name}: no symbol {sym!r}")
        return i

    def symbol_name(self, sid):
        if sid >= len(self._names):
            self.symbols
        return self._names[sid]

    @property
    def session(self):
        st = _lib.Status()
        _check(lib.bb_bus_status(self._b, ctypes.byref(st)),
               f"bus {self.name}: status")
        state = STATES[st.state] if st.state < len(STATES) else str(st.state)
        return Session(st.date, state, st.open * NS, st.close * NS,
                       st.clock * NS, st.sessions, MODES.get(st.mode, "?"),
                       st.history, st.stalled_since * NS)

    @property
    def writer(self):
        """The coordinator's liveness: Writer(state "alive"|"stuck"|"dead",
        pid)."""
        pid = ctypes.c_int()
        s = lib.bb_bus_writer_state(self._b, ctypes.byref(pid))
        return Writer(WRITER_STATES[s] if 0 <= s < 3 else str(s), pid.value)

    @property
    def upkeep_writer(self):
        if not self._upkeep():
            return Writer("dead", 0)
        pid = ctypes.c_int()
        s = lib.bb_upkeep_writer_state(self._u, ctypes.byref(pid))
        return Writer(WRITER_STATES[s] if 0 <= s < 3 else str(s), pid.value)

    @property
    def epoch(self):
        return lib.bb_bus_epoch(self._b)

    @property
    def intervals(self):
        """Intervals served, in minutes: 1 and the upkeep's derived ones."""
        if not self._upkeep():
            return [1]
        out = (ctypes.c_uint32 * 14)()
        n = lib.bb_upkeep_intervals(self._u, out, 14)
        return [1] + list(out[:min(n, 14)])

    # ---- bars -----------------------------------------------------------
    def latest(self, sym):
        """The latest 1-minute bar of sym (name or id), None before any."""
        sid = sym if sym.__class__ is int else self._ids.get(sym)
        if sid is None:
            sid = self.symbol_id(sym)
        rc = _latest(self._b, sid, self._bar_ref)
        if rc:
            if rc == _EEMPTY:
                return None
            _check(rc, f"bus {self.name}: latest {sym}")
        s, f, t, o, h, lo, c, v = _unpack(self._bar)
        return Bar(s, f, t * NS, o, h, lo, c, v)

    def _copy(self, fn, args, cap, what):
        """One C call into a buffer of cap rows; the bars as array/list."""
        if cap <= SESSION_ROWS:
            addr, buf = self._scratch_addr, self._scratch
        elif np is not None:
            buf = R.raw_buffer(cap)
            addr = buf.ctypes.data
        else:
            buf = (_lib.Bar * cap)()
            addr = ctypes.addressof(buf)
        _check(fn(*args(addr, cap)), what)
        n = self._got.value
        if np is not None:
            return R.finish(buf[:n].copy() if buf is self._scratch else buf[:n])
        return R.as_list(buf, n)

    def bars(self, sym, n=None, interval="1m", as_frame=False):
        """The current (or just ended) session's bars of sym, oldest first:
        the last n, or all. 1m bars include the upkeep's fills. A numpy
        structured array (BAR_DTYPE), a list of Bar without numpy, or a
        DataFrame with as_frame=True."""
        iv = interval_minutes(interval)
        sid = self.symbol_id(sym)
        u = self._upkeep()  # None before an upkeep ran: 1m without fills
        cap = SESSION_ROWS if n is None else int(n)
        if cap < 0:
            raise ValueError("n must be >= 0")
        out = self._copy(lib.bb_bars, lambda a, c: (self._b, u, sid, iv, a, c,
                                                    self._got_ref),
                         cap, f"bus {self.name}: {sym} {interval} bars")
        return out.to_pandas() if as_frame else out

    def history(self, sym, interval="1m", sessions=None, current=True,
                as_frame=False):
        """The bars of the last `sessions` sessions (all kept when None),
        oldest first, the current (or just ended) session counted as one
        when current is True."""
        iv = interval_minutes(interval)
        sid = self.symbol_id(sym)
        u = self._upkeep()
        parts = []
        want = sessions if sessions is not None else 1 << 30
        if current and want > 0:
            parts.append(self.bars(sid, interval=iv))
        back = 1
        while len(parts) < want:
            try:
                part = self._copy(
                    lib.bb_bars_history,
                    lambda a, c: (self._b, u, back, sid, iv, a, c,
                                  self._got_ref, ctypes.byref(self._date)),
                    SESSION_ROWS, f"bus {self.name}: {sym} history {back}")
            except BarbusError as e:
                if e.code == E["NOTFOUND"]:
                    break
                raise
            parts.append(part)
            back += 1
        parts.reverse()
        if np is not None:
            out = np.concatenate(parts).view(R.BarArray) if parts else \
                R.finish(R.raw_buffer(0))
        else:
            out = BarList(b for p in parts for b in p)
        return out.to_pandas() if as_frame else out

    def quality(self, as_frame=False):
        """The upkeep's quality figures, one row per symbol: a numpy
        structured array (a list of QualityRow without numpy), or a
        DataFrame indexed by symbol."""
        if not self._upkeep():
            raise BusMissing(E["NOTREADY"], f"bus {self.name}: no upkeep")
        q = _lib.Quality()
        rows = []
        for i, name in enumerate(self.symbols):
            rc = lib.bb_upkeep_quality(self._u, i, ctypes.byref(q))
            if rc == E["EMPTY"]:
                continue
            _check(rc, f"bus {self.name}: quality of {name}")
            rows.append(QualityRow(name, *(getattr(q, f)
                                           for f in QUALITY_FIELDS)))
        if as_frame:
            import pandas as pd
            return pd.DataFrame(rows, columns=QualityRow._fields).set_index(
                "symbol")
        if np is None:
            return rows
        dt = [("symbol", "U31")] + [(f, "<u4") for f in QUALITY_FIELDS[:8]] + \
            [("quality", "<f8"), ("quality_with_fills", "<f8"), ("date", "<i4")]
        return np.array([tuple(r) for r in rows], dtype=dt)

    # ---- following --------------------------------------------------------
    def _event(self, rec):
        """An Event of a non-bar ring record (None for other kinds)."""
        s, f, t, o, h, lo, c, v = rec
        kind = f >> R.KIND_SHIFT
        if kind == R.KIND_MINUTE_END:
            return Event("minute_end", t * NS, int(v))
        if kind in (R.KIND_SESSION_START, R.KIND_SESSION_END):
            sess = (s, t * NS, int(o) * NS, int(lo))  # date, open, close, flags
            return Event("session_start" if kind == R.KIND_SESSION_START
                         else "session_end", t * NS, None, sess)
        return None

    def follow(self, symbols=None, intervals=("1m",), events=False,
               snapshot=False, timeout=None):
        """Bars (Bar) and, with events, Event records as the ring carries
        them, blocking on a futex between them. Lapping (Event "lapped",
        the exact count lost) and a writer restart (Event "epoch") are
        always yielded. Derived intervals come from the upkeep's tables at
        each minute end once final. snapshot: first the current session's
        1m bars from the tables, then the ring from exactly the next record
        (libshm bb_follow_*: no bar twice, none missed).
        timeout: seconds without any record before TimeoutError. Ends when
        the writer is gone and the bus finished; WriterDead if it died."""
        ids = None if symbols is None else {self.symbol_id(s) for s in symbols}
        ivs = [interval_minutes(i) for i in intervals]
        derived = [i for i in ivs if i > 1]
        want_1m = 1 in ivs
        if snapshot and want_1m:
            yield from self._follow_snapshot(ids, derived, events, timeout)
            return
        rd = _Reader(self, self._oldest)
        buf = (_lib.Bar * 4096)()
        addr = ctypes.addressof(buf)
        mv = memoryview(buf).cast("B")
        der = _Derived(self._session_now())
        try:
            while True:
                r = rd.wait(addr, 4096, timeout)
                if r is None:
                    yield from self._derived_last(ids, derived, der)
                    return
                n, lost, changed = r
                if n == 0 and not lost:
                    raise TimeoutError(f"bus {self.name}: nothing for "
                                       f"{timeout} s")
                if changed:
                    yield Event("epoch", None, rd.epoch)
                for rec in R.BAR_STRUCT.iter_unpack(mv[:n * 56]):
                    if rec[1] >> R.KIND_SHIFT == 0:
                        if not want_1m or (ids is not None and rec[0] not in ids):
                            continue
                        yield Bar(rec[0], rec[1], rec[2] * NS, *rec[3:])
                        continue
                    ev = self._event(rec)
                    if ev is None:
                        continue
                    if ev.kind == "session_start":
                        der.session_start(ev.session)
                    if derived and ev.kind in ("minute_end", "session_end"):
                        yield from self._derived(ids, derived, der,
                                                 ev.kind == "session_end",
                                                 ev.session)
                    if events:
                        yield ev
                if lost:  # after the records read before the lap
                    yield Event("lapped", None, lost)
        finally:
            rd.close()

    def _follow_open(self):
        """bb_follow_open(), waiting for the ring as _Reader does."""
        h = ctypes.c_void_p()
        deadline = _time.monotonic() + self._wait
        while True:
            rc = lib.bb_follow_open(ctypes.byref(h), self.name.encode(),
                                    WAIT_BLOCK, 0)
            if rc not in (2, E["NOTREADY"]) or _time.monotonic() >= deadline:
                break
            _time.sleep(0.002)
        _check(rc, f"bus {self.name}: snapshot and follow")
        return h

    def _follow_snapshot(self, ids, derived, events, timeout):
        """follow(snapshot=True): libshm's snapshot-then-follow
        (bb_follow_*): the session table's bars, then the ring from exactly
        the next record; lapped, a new snapshot of the bars not delivered."""
        h = self._follow_open()
        rec, lost, n = _lib.Bar(), ctypes.c_uint64(), ctypes.c_size_t()
        rec_ref, lost_ref = ctypes.byref(rec), ctypes.byref(lost)
        der = _Derived(self._session_now())
        epoch = lib.bb_bus_epoch(self._b)

        def snap():
            p = lib.bb_follow_snapshot(h, ctypes.byref(n))
            if not p or n.value == 0:
                return []
            bars = R.as_list((_lib.Bar * n.value).from_address(p), n.value)
            bars = [b for b in bars if ids is None or b.symbol in ids]
            bars.sort(key=lambda b: (b.time, b.symbol))
            return bars
        try:
            yield from snap()
            deadline = None if timeout is None else _time.monotonic() + timeout
            while True:
                rc = lib.bb_follow_next(h, rec_ref, lost_ref, SLICE_NS)
                if rc == E["TIMEDOUT"]:
                    if deadline is not None and _time.monotonic() >= deadline:
                        raise TimeoutError(f"bus {self.name}: nothing for "
                                           f"{timeout} s")
                    continue
                if rc == E["LAPPED"]:
                    yield Event("lapped", None, lost.value)
                    yield from snap()
                    continue
                if rc == E["NOWRITER"]:
                    if self.session.state in ("done", "ended",
                                              "timer_expired"):
                        yield from self._derived_last(ids, derived, der)
                        return
                    raise WriterDead(rc, f"bus {self.name}: ring")
                _check(rc, f"bus {self.name}: ring")
                if deadline is not None:
                    deadline = _time.monotonic() + timeout
                raw = _unpack(rec)
                if raw[1] >> R.KIND_SHIFT == 0:
                    if ids is None or raw[0] in ids:
                        yield Bar(raw[0], raw[1], raw[2] * NS, *raw[3:])
                    continue
                ev = self._event(raw)
                if ev is None:
                    continue
                ep = lib.bb_bus_epoch(self._b)
                if ep != epoch:
                    epoch = ep
                    yield Event("epoch", None, ep)
                if ev.kind == "session_start":
                    der.session_start(ev.session)
                if derived and ev.kind in ("minute_end", "session_end"):
                    yield from self._derived(ids, derived, der,
                                             ev.kind == "session_end",
                                             ev.session)
                if events:
                    yield ev
        finally:
            lib.bb_follow_close(h)

    def _session_now(self):
        """The coordinator's session now: (date, open, close) in ns, or
        None before any."""
        st = self.session
        return (st.date, st.open, st.close) if st.date else None

    def _derived(self, ids, ivs, der, at_end, sess):
        """Final derived bars not yielded yet, from the upkeep, of the
        session the ring is in (a follower lagging behind the upkeep reads
        them from its history, where the next session's start cannot reset
        them). An ended session's last ones once the upkeep has finished
        it (waited for 2 s at its end, else at a later minute end), before
        any of the next session's."""
        if not self._upkeep():
            return
        p = der.pending
        if p is not None and (at_end or self._upkeep_done(p[0])):
            if at_end:  # another session ended: 2 s more for this one
                self._upkeep_wait(p[0])
            der.pending = None
            yield from self._derived_bars(ids, ivs, der, p)
        if at_end:
            der.pending = sess
            if self._upkeep_wait(sess[0]):
                der.pending = None
                yield from self._derived_bars(ids, ivs, der, sess)
        elif der.pending is None:
            yield from self._derived_bars(ids, ivs, der, der.cur)

    def _upkeep_wait(self, date, secs=2, alive=False):
        """Whether the upkeep finished session date, waited for secs at
        most (2: as long as the coordinator's handshake waits); with
        alive, only while its heartbeat is fresh."""
        t_end = _time.monotonic() + secs
        while not self._upkeep_done(date):
            if _time.monotonic() >= t_end or (
                    alive and lib.bb_upkeep_writer_state(self._u, None)):
                return False
            _time.sleep(0.001)
        return True

    def _upkeep_info(self):
        info = _lib.UpkeepInfo()
        rc = lib.bb_upkeep_status(self._u, ctypes.byref(info))
        return info if rc == 0 else None

    def _upkeep_done(self, date):
        """The upkeep has finished session date (or left)."""
        info = self._upkeep_info()
        return info is None or info.done_date >= date or \
            info.state == UPKEEP_EXITED

    def _derived_bars(self, ids, ivs, der, sess):
        """sess's final bars not yielded yet (sess None: whatever the
        current tables hold): from the current tables while the upkeep is
        on sess and has not finished it, else from its history."""
        info = self._upkeep_info()
        hist = sess is not None and info is not None and \
            lib.bb_upkeep_history_days(self._u) > 0 and \
            (info.date != sess[0] or info.done_date >= sess[0])
        lo, hi = (sess[1], sess[2]) if sess is not None else (-1, 1 << 62)
        buf = (_lib.Bar * SESSION_ROWS)()  # the upkeep may lag: all of them
        for sid in (ids if ids is not None else range(len(self.symbols))):
            for iv in ivs:
                n = self._derived_read(sid, iv, buf, sess[0] if hist else 0)
                for b in R.as_list(buf, n):
                    if b.flags & R.PARTIAL or not lo <= b.time < hi or \
                            b.time <= der.last.get((sid, iv), -1):
                        continue
                    der.last[(sid, iv)] = b.time
                    yield b

    def _derived_last(self, ids, ivs, der):
        """The follower ends: a pending session is waited for while the
        upkeep's heartbeat is fresh (a minute at most), then its bars."""
        p = der.pending
        if not ivs or p is None or not self._upkeep():
            return
        self._upkeep_wait(p[0], 60, alive=True)
        der.pending = None
        yield from self._derived_bars(ids, ivs, der, p)

    def _derived_read(self, sid, iv, buf, date):
        """sid's derived bars at iv into buf, how many: session date's
        from the upkeep's history block holding it (back 0 while the
        upkeep is still on it, then 1, ...), or with date 0 (or none
        kept) the current table's. A row held mid-write (RETRY) is read
        again, 2 s at most; then none this time (a later look reads
        them)."""
        keep = lib.bb_upkeep_history_days(self._u) + 1 if date else 0
        for _ in range(100):
            rc = E["NOTFOUND"]
            for back in range(keep):
                rc = lib.bb_bars_history(self._b, self._u, back, sid, iv, buf,
                                         SESSION_ROWS, self._got_ref,
                                         ctypes.byref(self._date))
                if rc == E["NOTFOUND"] and back == 0:
                    continue
                if rc != 0 or self._date.value <= date:
                    break
            if keep and rc == 0 and self._date.value == date:
                return self._got.value
            if rc != E["RETRY"]:
                rc = lib.bb_bars(self._b, self._u, sid, iv, buf,
                                 1440 // iv + 1, self._got_ref)
            if rc == 0:
                return self._got.value
            if rc != E["RETRY"]:
                return 0
            _time.sleep(0.02)
        return 0

    def follow_batches(self, symbols=None, events=False, max_batch=16384,
                       timeout=None):
        """Every record available so far, as one numpy array (BAR_DTYPE;
        a BarList without numpy) per wait: bars only, or with events the
        event records too (their kind in flags >> 24). Lapping and epoch
        changes are yielded as Event between arrays, as follow()."""
        ids = None if symbols is None else sorted({self.symbol_id(s)
                                                   for s in symbols})
        rd = _Reader(self, self._oldest)
        if np is not None:
            buf = R.raw_buffer(max_batch)
            addr = buf.ctypes.data
        else:
            buf = (_lib.Bar * max_batch)()
            addr = ctypes.addressof(buf)
        try:
            while True:
                r = rd.wait(addr, max_batch, timeout)
                if r is None:
                    return
                n, lost, changed = r
                if n == 0 and not lost:
                    raise TimeoutError(f"bus {self.name}: nothing for "
                                       f"{timeout} s")
                if changed:
                    yield Event("epoch", None, rd.epoch)
                if n == 0:
                    if lost:
                        yield Event("lapped", None, lost)
                    continue
                if np is None:
                    out = R.as_list(buf, n)
                    yield BarList(b for b in out
                                  if (events or b.flags >> R.KIND_SHIFT == 0)
                                  and (ids is None or b.symbol in ids))
                    if lost:
                        yield Event("lapped", None, lost)
                    continue
                a = buf[:n]
                keep = None
                if not events:
                    keep = R.kinds(a) == 0
                if ids is not None:
                    m = np.isin(R.symbols_of(a), ids)
                    keep = m if keep is None else keep & m
                yield R.finish(a[keep] if keep is not None else a.copy())
                if lost:  # after the records read before the lap
                    yield Event("lapped", None, lost)
        finally:
            rd.close()

    def wait_minute_end(self, timeout=None):
        """Wait until a minute is complete across all symbols. Returns the
        Event "minute_end" (time: that minute; bars: the 1m bars read from
        the ring since the previous minute end, as Bar), or a
        "session_start"/"session_end"/"lapped"/"epoch" Event met on the
        way; None on timeout or when the writer is gone and the bus
        finished (WriterDead when it died mid-session)."""
        if self._mreader is None:
            self._mreader = _Reader(self, self._oldest)
            self._mbuf = (_lib.Bar * 1)()
        rd, rec = self._mreader, self._mbuf
        addr = ctypes.addressof(rec)
        deadline = None if timeout is None else _time.monotonic() + timeout
        while True:
            left = None if deadline is None else \
                max(0.0, deadline - _time.monotonic())
            r = rd.wait(addr, 1, left)
            if r is None:
                return None
            n, lost, changed = r
            if lost:
                return Event("lapped", None, lost)
            if changed:
                return Event("epoch", None, rd.epoch)
            if n == 0:
                return None
            raw = R.BAR_STRUCT.unpack_from(rec)
            if raw[1] >> R.KIND_SHIFT == 0:
                self._pending.append(Bar(raw[0], raw[1], raw[2] * NS,
                                         *raw[3:]))
                continue
            ev = self._event(raw)
            if ev is None:
                continue
            if ev.kind == "minute_end":
                ev, self._pending = ev._replace(bars=self._pending), []
            return ev
