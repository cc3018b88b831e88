"""Every call of barbus.Bus against the CLI tools' view of the same bus."""
import calendar
import time

import pytest

import barbus
from conftest import tool, csv_rows, NSYM

NS = 1_000_000_000


def ts(s):
    """"2024-07-01T13:30:00Z" -> ns."""
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")) * NS


def from_csv(rows):
    return [(r["symbol"], ts(r["timestamp"]), float(r["open"]),
             float(r["high"]), float(r["low"]), float(r["close"]),
             float(r["volume"]), r.get("flags", "")) for r in rows]


def from_bus(bus, bars):
    return [(bus.symbol_name(b.symbol), b.time, b.open, b.high, b.low,
             b.close, b.volume, b.flag_names) for b in barbus.to_bars(bars)]


def test_symbols_and_session(bus):
    assert bus.symbols == [f"SYM{i:04d}" for i in range(1, NSYM + 1)]
    s = bus.session
    assert (s.date, s.state, s.mode, s.history) == (20240703, "done",
                                                    "backtest", 2)
    assert s.open == ts("2024-07-03T13:30:00Z")
    assert s.close == ts("2024-07-03T17:00:00Z")
    assert s.clock == ts("2024-07-03T16:59:00Z")
    assert bus.writer.state == "dead"  # the replay is over
    assert bus.intervals == [1, 5, 15, 30, 60]


@pytest.mark.parametrize("iv", ["1m", "5m", "15m", "30m", "1h"])
def test_bars_equal_barbus_bars(bus, iv):
    for sym in ("SYM0001", "SYM0007", "SYM0020"):
        want = from_csv(csv_rows([tool("bars"), "--bus", bus.name, "--symbol",
                                  sym, "--interval", iv]))
        got = from_bus(bus, bus.bars(sym, interval=iv))
        assert got == want and len(want) > 0
        assert from_bus(bus, bus.bars(sym, n=3, interval=iv)) == want[-3:]


def test_bars_1m_equal_the_store(bus, replayed, store):
    rows = csv_rows([tool("export"), "--db", store, "--from", "2024-07-03",
                     "--to", "2024-07-03"])
    for sym in ("SYM0003", "SYM0011"):
        want = [w[:7] for w in from_csv(r for r in rows if r["symbol"] == sym)]
        assert [g[:7] for g in from_bus(bus, bus.bars(sym))] == want


def test_latest(bus):
    for sym in bus.symbols:
        want = from_csv(csv_rows([tool("bars"), "--bus", bus.name, "--symbol",
                                  sym]))[-1]
        b = bus.latest(sym)
        assert isinstance(b, barbus.Bar)
        assert from_bus(bus, [b]) == [want]
        assert bus.latest(bus.symbol_id(sym)) == b


@pytest.mark.parametrize("iv", ["1m", "15m", "1h"])
def test_history_equals_barbus_bars_history(bus, iv):
    want = from_csv(csv_rows([tool("bars"), "--bus", bus.name, "--symbol",
                              "SYM0004", "--interval", iv, "--history"]))
    assert from_bus(bus, bus.history("SYM0004", interval=iv)) == want
    days = {w[1] // (86400 * NS) for w in want}
    assert len(days) == 3
    last2 = [w for w in want if w[1] >= ts("2024-07-02T00:00:00Z")]
    assert from_bus(bus, bus.history("SYM0004", iv, sessions=2)) == last2
    prev = [w for w in want if w[1] < ts("2024-07-03T00:00:00Z")]
    assert from_bus(bus, bus.history("SYM0004", iv, current=False)) == prev


def test_quality_equals_barbus_bars_quality(bus):
    want = csv_rows([tool("bars"), "--bus", bus.name, "--quality"])
    got = bus.quality()
    assert len(got) == len(want) == NSYM
    for g, w in zip(got, want):
        assert str(g["symbol"]) == w["symbol"]
        for f in ("expected", "real", "late", "filled", "unfillable",
                  "synthetic", "pending"):
            assert int(g[f]) == int(w[f]), f
        assert f"{g['quality']:.2f}" == w["quality"]
        assert f"{g['quality_with_fills']:.2f}" == w["quality_with_fills"]
    df = bus.quality(as_frame=True)
    assert list(df.index) == bus.symbols
    assert int(df.loc["SYM0002", "expected"]) == 210  # 09:30..13:00


def test_array_layout(bus):
    a = bus.bars("SYM0001")
    assert a.dtype == barbus.BAR_DTYPE and a.dtype.itemsize == 56
    assert a.dtype["time"] == "M8[ns]"
    assert a["time"][0] == a["time"][0].astype("M8[m]")


def test_flags_column(bus):
    df = bus.bars("SYM0001", as_frame=True)
    assert list(df.columns) == ["open", "high", "low", "close", "volume",
                                "symbol", "filled", "synthetic", "partial",
                                "late"]
    assert str(df.index.tz) == "UTC" and df.index.name == "time"


def test_errors_are_exceptions_with_the_library_message(bus):
    with pytest.raises(barbus.BusMissing) as e:
        barbus.Bus("no-such-bus-xyz")
    assert "No such file or directory" in str(e.value)
    with pytest.raises(barbus.BarbusError) as e:
        barbus.Bus("bad name!")
    assert str(e.value).endswith(barbus.strerror(e.value.code))
    assert "invalid bus or segment name" in str(e.value)
    with pytest.raises(barbus.BarbusError) as e:
        bus.bars("SYM0001", interval="7m")
    assert "interval not maintained by the upkeep" in str(e.value)
    with pytest.raises(KeyError):
        bus.latest("NOPE")
    with pytest.raises(ValueError):
        bus.bars("SYM0001", interval="5x")


def test_a_missing_bus_is_waited_for_then_an_error():
    t = time.monotonic()
    with pytest.raises(barbus.BusMissing):
        barbus.Bus("py-never-there", wait=0.3)
    assert 0.3 <= time.monotonic() - t < 2
