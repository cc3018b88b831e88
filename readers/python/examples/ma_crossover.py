#!/usr/bin/python3
"""A moving-average crossover strategy on barbus.Bus.wait_minute_end().

    ma_crossover.py --bus NAME [--fast 5] [--slow 20] [--symbols A,B]
                    [--sessions 1] [--wait SEC] [--trades N]

At each complete minute it updates a fast and a slow simple moving average
of each symbol's 1-minute closes (the bars of that minute, as the ring
delivered them, so a backtest replayed at full speed sees what it would
have seen live) and goes long when the fast crosses above the slow, flat
when it crosses below. It prints each trade, and at each session's end the
positions and the P&L of one share per trade. It stops after --sessions
session ends, or when the bus is finished.
"""
import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import barbus  # noqa: E402


def iso(ns):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ns // 10**9))


class Symbol:
    def __init__(self, fast, slow):
        self.closes = collections.deque(maxlen=slow)
        self.fast, self.slow = fast, slow
        self.above = None  # fast above slow at the last minute
        self.entry = None  # price of the open long, if any
        self.pnl, self.trades = 0.0, 0

    def update(self, close):
        """Add a close; "buy", "sell" or None."""
        self.closes.append(close)
        if len(self.closes) < self.slow:
            return None
        c = list(self.closes)
        above = sum(c[-self.fast:]) / self.fast > sum(c) / self.slow
        cross, self.above = self.above is not None and above != self.above, \
            above
        if cross and above and self.entry is None:
            self.entry, self.trades = close, self.trades + 1
            return "buy"
        if cross and not above and self.entry is not None:
            self.pnl += close - self.entry
            self.entry = None
            return "sell"
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bus", required=True)
    ap.add_argument("--fast", type=int, default=5)
    ap.add_argument("--slow", type=int, default=20)
    ap.add_argument("--symbols", help="comma-separated (default: all)")
    ap.add_argument("--sessions", type=int, default=1)
    ap.add_argument("--wait", type=float, default=10,
                    help="seconds to wait for the bus to appear")
    ap.add_argument("--trades", type=int, default=-1, metavar="N",
                    help="print the first N trades only (default: all)")
    a = ap.parse_args()
    if not 0 < a.fast < a.slow:
        ap.error("--fast must be below --slow")

    bus = barbus.Bus(a.bus, wait=a.wait, from_oldest=True)
    want = set(a.symbols.split(",")) if a.symbols else None
    state, ended, minutes, shown = {}, 0, 0, 0
    while ended < a.sessions:
        ev = bus.wait_minute_end()
        if ev is None:  # the bus is finished
            break
        if ev.kind == "lapped":
            print(f"lapped: {ev.count} records lost", file=sys.stderr)
            continue
        if ev.kind == "session_start":
            state = {}
            continue
        if ev.kind == "session_end":
            ended += 1
            pnl = sum(st.pnl + (st.closes[-1] - st.entry
                                if st.entry is not None else 0)
                      for st in state.values())
            longs = sorted(s for s, st in state.items() if st.entry)
            print(f"session {ev.session[0]} ended: {minutes} minutes, "
                  f"{sum(st.trades for st in state.values())} trades, "
                  f"long {len(longs)} symbols, P&L {pnl:+.2f} per share")
            minutes = 0
            continue
        if ev.kind != "minute_end":
            continue
        minutes += 1
        for b in ev.bars:
            name = bus.symbol_name(b.symbol)
            if want is not None and name not in want:
                continue
            st = state.setdefault(name, Symbol(a.fast, a.slow))
            act = st.update(b.close)
            if act and (a.trades < 0 or shown < a.trades):
                shown += 1
                print(f"{iso(b.time + 60 * 10**9)} {act} {name} at {b.close}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
