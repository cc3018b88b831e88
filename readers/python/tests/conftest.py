"""Fixtures: a generated store, and buses made from it by the real
barbus-coordinator and barbus-upkeep, each with a unique name; every
process is stopped and every segment unlinked, even on failure."""
import csv
import glob
import io
import itertools
import os
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)
ROOT = os.path.dirname(os.path.dirname(PKG))
BUILD = os.environ.get("BARBUS_BUILD", os.path.join(ROOT, "build"))
BIN = os.path.join(BUILD, "bin")
sys.path.insert(0, PKG)
os.environ.setdefault("BARBUS_LIB", os.path.join(BUILD, "libbarbus.so"))

NSYM = 20
FROM, TO = "2024-07-01", "2024-07-03"  # July 3: an early close (13:00 ET)
_seq = itertools.count()


def tool(name):
    return os.path.join(BIN, "barbus-" + name)


def unique_bus(tag):
    return f"py-{tag}-{os.getpid()}-{next(_seq)}"


def unlink_bus(bus):
    for p in glob.glob(f"/dev/shm/barbus.{bus}.*"):
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass


def csv_rows(args):
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return list(csv.DictReader(io.StringIO(out.stdout)))


class Run:
    """Processes of one bus; stop() kills what is left and unlinks it."""

    def __init__(self, bus, db):
        self.bus, self.db, self.procs = bus, db, []

    def upkeep(self, *extra):
        p = subprocess.Popen([tool("upkeep"), "--bus", self.bus, "--db",
                              self.db, "--intervals", "5m,15m,30m,1h",
                              "--wait-bus-ms", "20000", *extra],
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def coordinator(self, frm, to, *extra):
        p = subprocess.Popen([tool("coordinator"), "--bus", self.bus, "--db",
                              self.db, "--history-days", "2", *extra,
                              "backtest", "--from", frm, "--to", to],
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def wait_all(self, timeout=60):
        for p in self.procs:
            assert p.wait(timeout) == 0, f"{p.args[0]} exit {p.returncode}"

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        unlink_bus(self.bus)


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("store")
    db = str(d / "db")
    subprocess.run([tool("gen"), "--db", db, "--symbols", str(NSYM), "--from",
                    FROM, "--to", TO, "--seed", "11", "--missing-rate", "0.01",
                    "-q"], check=True)
    return db


@pytest.fixture
def run(store):
    """A fresh bus name and its processes, cleaned up after the test."""
    runs = []

    def make(tag):
        r = Run(unique_bus(tag), store)
        runs.append(r)
        return r
    yield make
    for r in runs:
        r.stop()


@pytest.fixture(scope="session")
def replayed(store):
    """A bus after a whole replay of FROM..TO with the upkeep: the last
    session (early close) current, the two before in history."""
    r = Run(unique_bus("static"), store)
    try:
        r.upkeep()
        time.sleep(0.1)
        r.coordinator(FROM, TO)
        r.wait_all()
        yield r.bus
    finally:
        r.stop()


@pytest.fixture
def bus(replayed):
    import barbus
    with barbus.Bus(replayed) as b:
        yield b
