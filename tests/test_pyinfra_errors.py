"""Our errors raised in pyinfra's process are pyinfra's own (its CLI prints them as one
message, no traceback), and `fab`'s process never imports pyinfra for them. No lab: the
deploy raises while pyinfra loads it, before the @local connector runs anything."""

from __future__ import annotations

import subprocess
import sys

from gourmetops import PROJECT_ROOT


def test_a_deploy_raising_ours_gets_pyinfras_one_line(tmp_path):
    deploy = tmp_path / "deploy.py"
    deploy.write_text(
        "from gourmetops.settings import SettingsError\nraise SettingsError('planted')\n"
    )
    ran = subprocess.run(
        [sys.executable, "-m", "pyinfra", "@local", str(deploy), "-y"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        stdin=subprocess.DEVNULL,
    )
    out = ran.stdout + ran.stderr
    assert ran.returncode == 1, out
    last = out.strip().splitlines()[-1]
    assert last.startswith("--> pyinfra error in ") and last.endswith(": planted"), out
    assert "Traceback" not in out and "unexpected exception" not in out, out


def test_each_of_ours_is_pyinfras_own_where_pyinfra_is_loaded():
    """As in pyinfra's process: pyinfra first, then the deploys' imports."""
    code = (
        "from pyinfra.api.exceptions import DeployError, InventoryError\n"
        "from gourmetops.settings import SettingsError\n"
        "from gourmetops.kubespray.checkout import SourceError\n"
        "from gourmetops.kubespray.inventory import KubesprayConfigError\n"
        "assert issubclass(SettingsError, InventoryError)\n"
        "assert issubclass(SourceError, DeployError) and issubclass(SourceError, RuntimeError)\n"
        "assert issubclass(KubesprayConfigError, DeployError)\n"
        "assert issubclass(KubesprayConfigError, ValueError)\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr


def test_the_fab_side_imports_no_pyinfra_for_them():
    """The tasks, the settings and kubespray's modules, as `fab` loads them."""
    code = (
        "import sys, tasks, gourmetops.settings, gourmetops.kubespray.checkout, "
        "gourmetops.kubespray.inventory, gourmetops.kubespray.overrides\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'pyinfra'], 'pyinfra loaded'\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT
    )
    assert ran.returncode == 0, ran.stderr
