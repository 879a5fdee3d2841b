"""Our errors raised in pyinfra's process are pyinfra's own (its CLI prints them as one
message, no traceback), and `fab`'s process never imports pyinfra for them. No lab: the
deploy raises while pyinfra loads it, before the @local connector runs anything."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gourmetops import PROJECT_ROOT

RAISES = {
    "SettingsError": ("gourmetops.settings", "hpa_min: planted"),
    "SourceError": ("gourmetops.kubespray.checkout", "kubespray_ref: planted"),
    "KubesprayConfigError": ("gourmetops.kubespray.inventory", "group_vars: planted"),
}


@pytest.mark.parametrize("name", list(RAISES))
def test_a_deploy_raising_ours_gets_pyinfras_one_line(tmp_path, name):
    module, message = RAISES[name]
    deploy = tmp_path / "deploy.py"
    deploy.write_text(f"from {module} import {name}\nraise {name}({message!r})\n")
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
    assert last.startswith("--> pyinfra error in ") and last.endswith(f": {message}"), out
    assert "Traceback" not in out and "unexpected exception" not in out, out


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
