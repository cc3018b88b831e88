#!/usr/bin/python3
"""bench/py_bench.py --bus NAME --bin DIR --symbols N: the Python package's
figures on a replayed bus (py_bench.c makes it and prints the C ones).
Prints `name value unit` lines."""
import argparse
import io
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "readers", "python"))
import barbus  # noqa: E402
import pandas as pd  # noqa: E402


def best(fn, rounds, repeat=5):
    """Best mean seconds per call over `repeat` runs of `rounds` calls:
    short runs, so that one of them runs without being preempted on a
    loaded machine."""
    out = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(rounds):
            fn()
        out = min(out, (time.perf_counter() - t) / rounds)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bus", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--symbols", type=int, required=True)
    a = ap.parse_args()
    bus = barbus.Bus(a.bus)
    names = bus.symbols
    sym = names[7]
    assert len(bus.bars(sym, n=390)) == 390

    print(f"py.latest {best(lambda: bus.latest(sym), 10000, 30) * 1e9:.0f} ns")
    print(f"py.bars390 {best(lambda: bus.bars(sym, n=390), 500, 30) * 1e6:.2f} us")
    print(f"py.bars390.frame "
          f"{best(lambda: bus.bars(sym, n=390, as_frame=True), 200) * 1e6:.0f} us")

    def csv_route():
        out = subprocess.run([os.path.join(a.bin, "barbus-bars"), "--bus",
                              a.bus, "--symbol", sym], check=True,
                             capture_output=True).stdout
        df = pd.read_csv(io.BytesIO(out), parse_dates=["timestamp"])
        assert len(df) == 390
    print(f"csv.bars390 {best(csv_route, 10, 3) * 1e6:.0f} us")

    # The ring holds both sessions: read it all from the oldest record (a
    # new reader each time: its first touch of the ring's pages included).
    for name, batches in (("py.follow.rate", True),
                          ("py.follow.each.rate", False)):
        rates = []
        for _ in range(5 if batches else 2):
            with barbus.Bus(a.bus, from_oldest=True) as b2:
                n, t = 0, time.perf_counter()
                if batches:
                    for arr in b2.follow_batches(timeout=5):
                        n += len(arr)
                else:
                    for _bar in b2.follow(timeout=5):
                        n += 1
                rates.append(n / (time.perf_counter() - t))
            assert n == a.symbols * 390 * 2, n
        print(f"{name} {max(rates):.0f} bars/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
