"""The tutorial's "Preliminaries", as host state.

- node1 gets an RSA key of its own and every node authorises it (kubespray's ansible runs
  from node1 to all three);
- node1 knows the three nodes' host keys, scanned over the private network (instead of
  the tutorial's StrictHostKeyChecking=no);
- firewalld is stopped and disabled everywhere (kubespray does not manage firewall rules);
- node1 loses the Docker packages and apt source left by the tutorial's Docker section.

    pyinfra inventories/chameleon.py deploys/prepare.py
"""

from pyinfra import host, inventory, logger
from pyinfra.facts.files import File
from pyinfra.facts.server import Home
from pyinfra.operations import apt, files, server, systemd

from gourmetops.pyinfra_ext import (
    SshHostKeys,
    SystemdBooted,
    SystemdUnitInstalled,
    authorized_head_key,
    known_hosts_lines,
)

head = inventory.get_group("head")[0]
user = host.data.get("ssh_user") or "cc"
key_path = f"{head.get_fact(Home)}/{host.data.cluster_key_path}"
is_head = "head" in host.groups

# --- node1's cluster key ---------------------------------------------------------------
if is_head:
    files.directory(
        name="~/.ssh exists and is private", path=f"{host.get_fact(Home)}/.ssh", mode="700"
    )
    if not host.get_fact(File, path=key_path):
        server.shell(
            name=f"Generate the cluster key {key_path} (RSA {host.data.cluster_key_bits})",
            commands=[f"ssh-keygen -t rsa -b {host.data.cluster_key_bits} -f {key_path} -q -N ''"],
        )
    files.file(name="The cluster key is readable by its owner only", path=key_path, mode="600")

authorized_head_key(
    name=f"Authorise {head.name}'s cluster key for {user}",
    head=head.name,
    public_key_path=f"{key_path}.pub",
    user=user,
)

# --- node1 knows every node's host key -------------------------------------------------
if is_head:
    names_by_address = {h.data.private_address: h.name for h in inventory}
    scanned = host.get_fact(SshHostKeys, addresses=sorted(names_by_address))
    for address, name in names_by_address.items():
        if address not in scanned:
            logger.warning(
                f"[{host.name}] no SSH host key from {name} ({address}); "
                "it is left out of known_hosts until a rerun reaches it"
            )
    files.block(
        name="Pin the cluster nodes' host keys in known_hosts",
        path=f"{host.get_fact(Home)}/.ssh/known_hosts",
        content=known_hosts_lines(names_by_address, scanned),
        marker="# {mark} gourmetops cluster nodes",
    )

# --- firewalld stopped and disabled ----------------------------------------------------
if not host.get_fact(SystemdBooted):
    host.noop("firewalld: PID 1 is not systemd, so no firewalld service can be running")
elif not host.get_fact(SystemdUnitInstalled, unit="firewalld.service"):
    host.noop("firewalld: not installed, nothing to stop")
else:
    systemd.service(
        name="Stop and disable firewalld",
        service="firewalld.service",
        running=False,
        enabled=False,
        _sudo=True,
    )

# --- the tutorial's earlier Docker, removed from node1 ---------------------------------
if is_head:
    apt.packages(
        name="Remove the Docker packages kubespray would conflict with",
        packages=host.data.docker_packages,
        present=False,
        _sudo=True,
    )
    docker_list = files.file(
        name=f"Remove {host.data.docker_apt_source}",
        path=host.data.docker_apt_source,
        present=False,
        _sudo=True,
    )
    apt.update(
        name="Refresh apt lists without the Docker source",
        _if=docker_list.did_change,
        _ignore_errors=host.data.apt_update_offline_ok,
        _sudo=True,
    )
