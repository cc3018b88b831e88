"""Derived bars equal pandas' own resample of the 1-minute bars."""
import pytest

import barbus

pd = pytest.importorskip("pandas")
if not barbus.HAVE_NUMPY:
    pytest.skip("numpy missing", allow_module_level=True)

OHLCV = ["open", "high", "low", "close", "volume"]
AGG = {"open": "first", "high": "max", "low": "min", "close": "last",
       "volume": "sum"}
FREQ = {"5m": "5min", "15m": "15min", "30m": "30min", "1h": "60min"}


def resampled(m1, origin, freq):
    r = m1[OHLCV].resample(freq, origin=origin, label="left",
                           closed="left").agg(AGG)
    return r.dropna(subset=["open"])  # a bin without any minute: no bar


def check(bus, sym, m1, derived, origin, iv):
    want = resampled(m1, origin, FREQ[iv])
    got = derived[OHLCV]
    assert len(got) > 0
    pd.testing.assert_frame_equal(got, want, check_freq=False)
    assert got.index.name == want.index.name == "time"


@pytest.mark.parametrize("iv", list(FREQ))
def test_early_close_day(bus, iv):
    s = bus.session
    origin = pd.Timestamp(s.open, tz="UTC")
    for sym in ("SYM0001", "SYM0002", "SYM0015"):
        m1 = bus.bars(sym, as_frame=True)
        d = bus.bars(sym, interval=iv, as_frame=True)
        check(bus, sym, m1, d, origin, iv)
        assert d.index[-1] < pd.Timestamp(s.close, tz="UTC")


@pytest.mark.parametrize("iv", list(FREQ))
def test_regular_days(bus, iv):
    for sym in ("SYM0001", "SYM0009"):
        m1 = bus.history(sym, current=False, as_frame=True)
        d = bus.history(sym, iv, current=False, as_frame=True)
        for day in sorted(set(m1.index.date)):
            a = m1[m1.index.date == day]
            origin = a.index[0].normalize() + pd.Timedelta("13h30min")
            check(bus, sym, a, d[d.index.date == day], origin, iv)
        assert len(set(m1.index.date)) == 2


def test_bars_array_to_pandas(bus):
    a = bus.bars("SYM0003", interval="15m")
    df = a.to_pandas()
    assert list(df.index.asi8) == list(a["time"].astype("i8"))
    assert list(df["close"]) == list(a["close"])
