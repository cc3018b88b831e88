"""Following the ring while the coordinator replays: every bar once, in
order, never torn; lapping reported exactly; a dead writer raises."""
import signal
import threading
import time

import pytest

import barbus
from conftest import tool, csv_rows, FROM, TO
from test_bus import from_csv

NS = 1_000_000_000


def key(x):
    if isinstance(x, barbus.Event):
        return (x.kind, x.time, x.session and x.session[0])
    return ("bar", x.symbol, x.time)


def store_bars(store, frm, to):
    """symbol name -> [(time, o, h, l, c, v)] from barbus-export."""
    out = {}
    for r in from_csv(csv_rows([tool("export"), "--db", store, "--from", frm,
                                "--to", to])):
        out.setdefault(r[0], []).append(r[1:7])
    return out


def check_stream(bus, items, store, frm, to):
    bars = [x for x in items if isinstance(x, barbus.Bar)]
    assert not [x for x in items if isinstance(x, barbus.Event)
                and x.kind in ("lapped", "epoch")]
    per = {}
    for b in bars:
        assert b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high
        per.setdefault(bus.symbol_name(b.symbol), []).append(
            (b.time, b.open, b.high, b.low, b.close, b.volume))
    assert per == store_bars(store, frm, to)  # each once, in time order
    t = 0
    for x in items:  # bars of minute m come before its MINUTE_END
        if isinstance(x, barbus.Bar):
            assert x.time >= t
        elif x.kind == "minute_end":
            t = x.time + 60 * NS
    return bars


def test_follow_at_full_speed(run, store):
    r = run("full")
    r.upkeep()
    r.coordinator(FROM, TO)
    with barbus.Bus(r.bus, wait=10, from_oldest=True) as bus:
        items = list(bus.follow(events=True, timeout=30))
        r.wait_all()
        check_stream(bus, items, store, FROM, TO)
        kinds = [x.kind for x in items if isinstance(x, barbus.Event)]
        assert kinds.count("session_start") == kinds.count("session_end") == 3
        assert kinds.count("minute_end") == 390 + 390 + 210
    with barbus.Bus(r.bus, from_oldest=True) as bus:
        n = 0
        while True:
            ev = bus.wait_minute_end(timeout=5)
            if ev is None:
                break
            if ev.kind == "minute_end":
                n += 1
                assert len(ev.bars) == ev.count > 0
                assert {b.time for b in ev.bars} == {ev.time}
        assert n == 990


def test_follow_batches_at_full_speed(run, store):
    r = run("batch")
    r.coordinator(FROM, TO)
    with barbus.Bus(r.bus, wait=10, from_oldest=True) as bus:
        items = []
        for a in bus.follow_batches(timeout=30):
            assert not isinstance(a, barbus.Event), a
            items.extend(barbus.to_bars(a))
        r.wait_all()
        check_stream(bus, items, store, FROM, TO)


def test_lapping_is_reported_exactly(run, store):
    r = run("lap")
    r.upkeep()
    r.coordinator(FROM, FROM, "--ring-capacity", "4096", "--speed", "5000x")
    full, slow, derived, errs = [], [], [], []

    def follow(out, sleep, **kw):
        try:
            with barbus.Bus(r.bus, wait=10, from_oldest=True) as bus:
                it = bus.follow(events=True, timeout=20, **kw)
                out.append(next(it))
                time.sleep(sleep)
                out.extend(it)
        except Exception as e:  # reported by the main thread
            errs.append(e)
    ts = [threading.Thread(target=follow, args=(full, 0)),
          threading.Thread(target=follow, args=(slow, 3.5)),
          threading.Thread(target=follow, args=(derived, 0),
                           kwargs={"intervals": ("5m",)})]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    r.wait_all()
    assert not errs, errs
    assert not [x for x in full if isinstance(x, barbus.Event)
                and x.kind == "lapped"]
    laps = [i for i, x in enumerate(slow) if isinstance(x, barbus.Event)
            and x.kind == "lapped"]
    assert laps and slow[0].kind == "session_start"
    pos = {key(x): i for i, x in enumerate(full)}
    for i in laps:
        before, after = pos[key(slow[i - 1])], pos[key(slow[i + 1])]
        assert after - before - 1 == slow[i].count
    tail = slow[laps[-1] + 1:]
    start = pos[key(tail[0])]
    assert [key(x) for x in tail] == [key(x) for x in full[start:]]
    with barbus.Bus(r.bus) as bus:
        want = [(b.symbol, b.time, b.close) for s in bus.symbols
                for b in barbus.to_bars(bus.bars(s, interval="5m"))]
    got = [(b.symbol, b.time, b.close) for b in derived
           if isinstance(b, barbus.Bar)]
    assert sorted(got) == sorted(want) and len(want) > 20 * 70


def test_dead_writer_is_an_exception(run):
    r = run("dead")
    co = r.coordinator(FROM, FROM, "--speed", "1000x")
    with barbus.Bus(r.bus, wait=10) as bus:
        it = bus.follow(timeout=10)
        next(it)
        co.send_signal(signal.SIGKILL)
        co.wait()
        t = time.monotonic()
        with pytest.raises(barbus.WriterDead) as e:
            for _ in it:
                pass
        assert "the segment's writer is not alive" in str(e.value)
        assert bus.writer.state == "dead" and bus.session.state == "open"
        with pytest.raises(barbus.WriterDead):
            while bus.wait_minute_end(timeout=10) is not None:
                pass
        assert time.monotonic() - t < 5


def test_snapshot_then_follow_mid_session(run, store):
    r = run("snap")
    r.coordinator(FROM, FROM, "--speed", "5000x")
    with barbus.Bus(r.bus, wait=10) as bus:
        while bus.session.clock < bus.session.open + 60 * 60 * NS:
            time.sleep(0.02)  # an hour of the session is in the tables
        items = list(bus.follow(snapshot=True, events=True, timeout=20))
        r.wait_all()
        bars = [x for x in items if isinstance(x, barbus.Bar)]
        first_ring = next(i for i, x in enumerate(items)
                          if isinstance(x, barbus.Event))
        assert first_ring >= 20 * 55  # the snapshot came first
        per = {}
        for b in bars:
            per.setdefault(bus.symbol_name(b.symbol), []).append(
                (b.time, b.open, b.high, b.low, b.close, b.volume))
        assert per == store_bars(store, FROM, FROM)
        sub = [b for b in bus.follow(symbols=["SYM0002"], snapshot=True)]
        assert [b.time for b in sub] == [x[0] for x in per["SYM0002"]]


def test_derived_follow_has_every_final_bar_of_every_session(run, store):
    r = run("dfol")
    r.upkeep()
    r.coordinator(FROM, TO, "--speed", "20000x")
    with barbus.Bus(r.bus, wait=10, from_oldest=True) as bus:
        got = [(b.symbol, b.time, b.close) for b in
               bus.follow(intervals=("5m",), timeout=30)
               if isinstance(b, barbus.Bar)]
        r.wait_all()
        want = [(b.symbol, b.time, b.close) for s in bus.symbols
                for b in barbus.to_bars(bus.history(s, interval="5m"))]
    assert len(got) == len(set(got))  # none twice
    assert sorted(got) == sorted(want)
    days = {t // (86400 * NS) for _, t, _ in want}
    assert len(days) == 3 and len(want) > 20 * (78 + 78 + 42) * 0.95


def test_derived_follow_waits_for_an_upkeep_late_at_a_session_end(run, store):
    """The upkeep stopped for 3 s from 10 minutes before the first
    session's end: longer than the follower waits there (2 s). That
    session's last bars come once the upkeep has finished it, before
    any of the next session's."""
    r = run("dlate")
    up = r.upkeep()
    r.coordinator(FROM, TO, "--speed", "20000x")
    got, order, timer = [], [], None
    with barbus.Bus(r.bus, wait=10, from_oldest=True) as bus:
        for x in bus.follow(intervals=("5m",), events=True, timeout=30):
            if isinstance(x, barbus.Bar):
                got.append((x.symbol, x.time, x.close))
                order.append(x.time // (86400 * NS))
            elif x.kind == "minute_end" and timer is None and \
                    x.time % (86400 * NS) == (19 * 3600 + 50 * 60) * NS:
                up.send_signal(signal.SIGSTOP)
                timer = threading.Timer(
                    3, lambda: up.send_signal(signal.SIGCONT))
                timer.start()
        r.wait_all()
        want = [(b.symbol, b.time, b.close) for s in bus.symbols
                for b in barbus.to_bars(bus.history(s, interval="5m"))]
    assert timer is not None
    timer.join()
    assert len(got) == len(set(got))
    assert sorted(got) == sorted(want)
    assert order == sorted(order)  # no bar of a session before the last
    #                                of the session before it
