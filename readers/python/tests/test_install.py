"""pip installs the package offline (Debian's setuptools, no build
isolation); installed, it finds libbarbus.so next to itself."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import PKG, BUILD


def test_pip_install_offline(tmp_path, replayed):
    try:
        import pip  # noqa: F401
    except ImportError:
        pytest.fail("pip missing: install python3-pip (make test does)")
    src = tmp_path / "src"
    shutil.copytree(PKG, src, ignore=shutil.ignore_patterns(
        "__pycache__", "tests", "build", "*.egg-info"))
    shutil.copy(os.path.join(BUILD, "libbarbus.so"), src / "barbus")
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index",
                    "--no-build-isolation", "--no-deps", "--target",
                    str(target), str(src)], check=True,
                   env=dict(os.environ, PIP_NO_CACHE_DIR="1",
                            PIP_DISABLE_PIP_VERSION_CHECK="1"))
    assert (target / "barbus" / "libbarbus.so").exists()
    env = {k: v for k, v in os.environ.items() if k != "BARBUS_LIB"}
    env["PYTHONPATH"] = str(target)
    out = subprocess.run([sys.executable, "-c",
                          "import barbus, sys; print(barbus.lib_path); "
                          f"print(barbus.Bus({replayed!r}).symbols[0])"],
                         cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    assert out == [str(target / "barbus" / "libbarbus.so"), "SYM0001"]
