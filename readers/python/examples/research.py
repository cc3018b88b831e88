#!/usr/bin/python3
"""Research snippet: the last 5 sessions of 15-minute bars of 20 symbols
in one pandas DataFrame (index: symbol, time).

    research.py --bus NAME [--sessions 5] [--interval 15m] [--symbols N]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import barbus  # noqa: E402
import pandas as pd  # noqa: E402


def frame(bus, symbols, interval, sessions):
    """One DataFrame of `sessions` sessions of bars of every symbol."""
    return pd.concat({s: bus.history(s, interval, sessions=sessions,
                                     as_frame=True) for s in symbols},
                     names=["symbol", "time"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bus", required=True)
    ap.add_argument("--sessions", type=int, default=5)
    ap.add_argument("--interval", default="15m")
    ap.add_argument("--symbols", type=int, default=20)
    a = ap.parse_args()
    with barbus.Bus(a.bus) as bus:
        df = frame(bus, bus.symbols[:a.symbols], a.interval, a.sessions)
    days = df.index.get_level_values("time").normalize().unique()
    print(f"{len(df)} bars, {df.index.get_level_values('symbol').nunique()} "
          f"symbols, {len(days)} sessions "
          f"({days.min().date()} .. {days.max().date()})")
    ret = df["close"].groupby(level="symbol").agg(lambda c: c.iloc[-1] /
                                                  c.iloc[0] - 1)
    print("return over the period, best 3:")
    print(ret.sort_values(ascending=False).head(3).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
