"""The examples run: the strategy follows a replay live, the research
snippet makes its DataFrame."""
import os
import subprocess
import sys
import time

import pytest

from conftest import PKG, FROM

EX = os.path.join(PKG, "examples")


def test_strategy_follows_one_session(run):
    r = run("strategy")
    p = subprocess.Popen([sys.executable, os.path.join(EX, "ma_crossover.py"),
                          "--bus", r.bus, "--sessions", "1"],
                         stdout=subprocess.PIPE, text=True)
    time.sleep(0.2)  # the strategy waits for the bus
    r.coordinator(FROM, FROM)
    out, _ = p.communicate(timeout=60)
    r.wait_all()
    assert p.returncode == 0
    lines = out.splitlines()
    assert lines[-1].startswith("session 20240701 ended: 390 minutes, ")
    assert any(" buy SYM" in ln for ln in lines)


def test_research_snippet(replayed):
    pytest.importorskip("pandas")
    out = subprocess.run([sys.executable, os.path.join(EX, "research.py"),
                          "--bus", replayed], check=True, capture_output=True,
                         text=True).stdout
    # 3 sessions are held: 26 + 26 + 14 bars of 15m (early close) each
    assert out.startswith("1320 bars, 20 symbols, 3 sessions "
                          "(2024-07-01 .. 2024-07-03)")
