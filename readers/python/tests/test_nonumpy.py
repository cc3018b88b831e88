"""Without numpy the package gives lists of Bar with the same values."""
import json
import os
import subprocess
import sys

import barbus
from conftest import PKG

SCRIPT = r"""
import json, sys
sys.path.insert(0, %r)
import barbus
assert not barbus.HAVE_NUMPY and "numpy" not in sys.modules
bus = barbus.Bus(%r)
out = {"latest": list(bus.latest("SYM0005")),
       "bars": [list(b) for b in bus.bars("SYM0005")],
       "bars5": [list(b) for b in bus.bars("SYM0005", n=4, interval="5m")],
       "hist": [list(b) for b in bus.history("SYM0005", "1h")],
       "quality": [list(q) for q in bus.quality()],
       "follow": [list(b) for b in barbus.Bus(%r, from_oldest=True).follow(
           symbols=["SYM0005"], timeout=5)],
       "batches": sum(len(a) for a in
                      barbus.Bus(%r, from_oldest=True).follow_batches(
                          timeout=5))}
print(json.dumps(out))
"""


def test_pure_python_equals_numpy(bus):
    env = dict(os.environ, BARBUS_NO_NUMPY="1")
    res = subprocess.run([sys.executable, "-c",
                          SCRIPT % (PKG, bus.name, bus.name, bus.name)],
                         env=env, check=True, capture_output=True, text=True)
    got = json.loads(res.stdout)
    assert got["latest"] == list(bus.latest("SYM0005"))
    assert got["bars"] == [list(b) for b in barbus.to_bars(bus.bars("SYM0005"))]
    assert got["bars5"] == [list(b) for b in barbus.to_bars(
        bus.bars("SYM0005", n=4, interval="5m"))]
    assert got["hist"] == [list(b) for b in barbus.to_bars(
        bus.history("SYM0005", "1h"))]
    assert len(got["bars"]) > 200 and len(got["hist"]) == 7 + 7 + 4
    q = bus.quality()
    assert [r[0] for r in got["quality"]] == [str(s) for s in q["symbol"]]
    assert [r[1:] for r in got["quality"]] == [
        [x.item() for x in list(row)[1:]] for row in q]
    with barbus.Bus(bus.name, from_oldest=True) as b2:
        n = sum(len(a) for a in b2.follow_batches(timeout=5))
    assert got["batches"] == n == 18588
    with barbus.Bus(bus.name, from_oldest=True) as b2:
        f = [list(b) for b in b2.follow(symbols=["SYM0005"], timeout=5)]
    assert got["follow"] == f and len(f) > 900
