"""The tutorial's "Prepare kubespray", on node1: the checkout, its virtualenv with the
requirements, and inventory/mycluster (the sample with the tutorial's edits, and hosts.yaml
derived from cluster.yaml).

    pyinfra inventories/chameleon.py deploys/kubespray.py
"""

import shlex
from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.facts.files import Directory
from pyinfra.facts.server import Home
from pyinfra.operations import apt, files, git, pip, server

from gourmetops.facts import DirectorySha1s, KubesprayCheckout, PathStates, PythonPlatform
from gourmetops.in_place import (
    checkout_in_place,
    content_in_place,
    dir_in_sync,
    requirements_in_place,
)
from gourmetops.kubespray.checkout import (
    cached_wheels,
    carried_bundle,
    controller_checkout,
    download_wheels,
    dry_run_checkout,
    head_commit,
    requirements,
)
from gourmetops.kubespray.overrides import INVENTORY, node_files
from gourmetops.operations import unless_in_place
from gourmetops.pyinfra_run import is_dry_run
from gourmetops.settings import of_host
from gourmetops.targets import get_target

data = of_host(host)  # settings checked (with any --data) before the first operation
DRY = is_dry_run()  # a dry run clones and downloads nothing on the controller

if "head" in host.groups:
    home = host.get_fact(Home)
    checkout = f"{home}/{data.kubespray_dir}"
    venv = f"{home}/{data.kubespray_venv}"
    source = data.kubespray_source
    ref = data.kubespray_ref
    local = dry_run_checkout(source, ref) if DRY else controller_checkout(source, ref)

    # One read decides the checkout, the virtualenv and the packages below (a no-op rerun
    # then runs none of their operations, whose own facts are seven git reads and pip freeze).
    state = host.get_fact(KubesprayCheckout, dest=checkout, venv=venv, ref=data.kubespray_ref)
    missing = [p for p in ("git", "virtualenv") if p not in state.debs]
    if missing:
        apt.packages(
            name=f"Install {', '.join(missing)}", packages=missing, update=True, _sudo=True
        )

    if data.kubespray_offline:
        # node1 has no internet (the lab): it clones from a bundle the controller carries,
        # the mirror's own or one made of the controller's clone of upstream.
        bundle = f"{home}/kubespray-{Path(data.kubespray_ref).name}.bundle"
        if local is None or (DRY and not Path(source).is_file()):
            host.noop(f"dry run: would bundle kubespray {ref} on the controller, copy it to node1")
        else:
            carried = carried_bundle(source, local, ref)
            files.put(name="Copy the kubespray bundle to node1", src=str(carried), dest=bundle)
        source = bundle
    # Offline, this run carries the controller's commit to node1 itself: that is the remote's.
    carried_commit = head_commit(local) if data.kubespray_offline and local else None
    unless_in_place(
        checkout_in_place(state, source, data.kubespray_ref, carried_commit),
        git.repo,
        name=f"kubespray checked out at {data.kubespray_ref}",
        src=source,
        dest=checkout,
        branch=data.kubespray_ref,
    )
    unless_in_place(
        state.venv, pip.virtualenv, name=f"Virtualenv {venv}", path=venv, python="python3"
    )
    # Byte-compiling all of the ansible package (15,000 files) took 25 s of the install's
    # 32 s on node1; Python compiles the few hundred that runs import, on first import.
    install_args = "--no-compile"
    wheels = None
    if local is None:
        host.noop(
            f"dry run: kubespray {ref} of {source} is not on the controller yet; a real run "
            "clones it there to read its requirements and sample inventory (nothing fetched now)"
        )
    elif data.kubespray_offline:
        platform = host.get_fact(PythonPlatform)
        reqs = requirements(local)
        wheels = cached_wheels(reqs, platform) if DRY else download_wheels(reqs, platform)
        if wheels is None:
            host.noop(f"dry run: would download {len(reqs)} wheels for {platform.tag}")
    if wheels is not None:
        # One read of the wheels' sha1s instead of files.sync's two round trips per wheel.
        wheel_dir = f"{home}/kubespray-wheels"
        unless_in_place(
            dir_in_sync(host.get_fact(DirectorySha1s, path=wheel_dir), Path(wheels)),
            files.sync,
            name="Copy the wheels to node1",
            src=str(wheels),
            dest=wheel_dir,
            delete=True,
        )
        install_args += " --no-index --find-links " + shlex.quote(wheel_dir)
    if local is not None and (wheels is not None or not data.kubespray_offline):
        unless_in_place(
            requirements_in_place(state, requirements(local)),
            pip.packages,
            name="kubespray's requirements in the virtualenv",
            packages=requirements(local),
            virtualenv=venv,
            extra_install_args=install_args,
        )

    if not host.get_fact(Directory, path=f"{checkout}/{INVENTORY}"):
        # A copy, not the tutorial's mv: the sample stays intact for reruns and diffs.
        server.shell(
            name=f"Create {INVENTORY} from the sample",
            commands=[
                shlex.join(["cp", "-a", f"{checkout}/inventory/sample", f"{checkout}/{INVENTORY}"])
            ],
        )
    cluster = get_target(data.target).cluster
    files_for_node = node_files(cluster, local, data.kubespray_group_vars) if local else {}
    dests = tuple(f"{checkout}/{path}" for path in files_for_node)
    now = host.get_fact(PathStates, paths=dests, read=dests) if dests else {}
    for (path, content), dest in zip(files_for_node.items(), dests, strict=True):
        unless_in_place(
            content_in_place(now[dest], content),
            files.put,
            name=f"{path}",
            src=StringIO(content),
            dest=dest,
        )
