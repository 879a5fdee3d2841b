"""The tutorial's "Prepare kubespray", on node1: the checkout, its virtualenv with the
requirements, and inventory/mycluster (the sample with the tutorial's edits, and hosts.yaml
derived from cluster.yaml).

    pyinfra inventories/chameleon.py deploys/kubespray.py
"""

from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.files import Directory
from pyinfra.facts.server import Home
from pyinfra.operations import apt, files, git, pip, server

from gourmetops.kubespray_plan import INVENTORY, node_files
from gourmetops.pyinfra_ext import PythonPlatform
from gourmetops.source import controller_checkout, download_wheels, requirements
from gourmetops.targets import get_target

if "head" in host.groups:
    home = host.get_fact(Home)
    checkout = f"{home}/{host.data.kubespray_dir}"
    venv = f"{home}/{host.data.kubespray_venv}"
    source = host.data.kubespray_source
    local = controller_checkout(source, host.data.kubespray_ref)

    missing = [p for p in ("git", "virtualenv") if p not in host.get_fact(DebPackages)]
    if missing:
        apt.packages(
            name=f"Install {', '.join(missing)}", packages=missing, update=True, _sudo=True
        )

    if Path(source).is_file():
        # A bundle on the controller (offline nodes, the lab): node1 clones from its copy.
        bundle = f"{home}/{Path(source).name}"
        files.put(name="Copy the kubespray bundle to node1", src=source, dest=bundle)
        source = bundle
    git.repo(
        name=f"kubespray checked out at {host.data.kubespray_ref}",
        src=source,
        dest=checkout,
        branch=host.data.kubespray_ref,
    )

    pip.virtualenv(name=f"Virtualenv {venv}", path=venv, python="python3")
    install_args = None
    if host.data.kubespray_offline_wheels:
        wheels = download_wheels(requirements(local), host.get_fact(PythonPlatform))
        files.sync(
            name="Copy the wheels to node1",
            src=str(wheels),
            dest=f"{home}/kubespray-wheels",
            delete=True,
        )
        install_args = f"--no-index --find-links {home}/kubespray-wheels"
    pip.packages(
        name="kubespray's requirements in the virtualenv",
        packages=requirements(local),
        virtualenv=venv,
        extra_install_args=install_args,
    )

    if not host.get_fact(Directory, path=f"{checkout}/{INVENTORY}"):
        # A copy, not the tutorial's mv: the sample stays intact for reruns and diffs.
        server.shell(
            name=f"Create {INVENTORY} from the sample",
            commands=[f"cp -a {checkout}/inventory/sample {checkout}/{INVENTORY}"],
        )
    cluster = get_target(host.data.target).cluster
    for path, content in node_files(cluster, local, host.data.kubespray_group_vars).items():
        files.put(name=f"{path}", src=StringIO(content), dest=f"{checkout}/{path}")
