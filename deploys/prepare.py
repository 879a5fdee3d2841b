"""The tutorial's "Preliminaries", as host state.

- node1 gets an RSA key of its own and every node authorises it (kubespray's ansible runs
  from node1 to all three);
- node1 knows the three nodes' host keys, read from each node over the controller's
  verified connection (where the tutorial turns host key checking off);
- firewalld is stopped and disabled everywhere (kubespray does not manage firewall rules);
- node1 loses the Docker packages and apt source left by the tutorial's Docker section;
- node1's sshd lets every node's connection through it start at once (gourmetops.jump).

    pyinfra inventories/chameleon.py deploys/prepare.py
"""

import shlex
from io import StringIO

from pyinfra import host, inventory, logger
from pyinfra.facts.files import File, FileContents
from pyinfra.facts.server import Home
from pyinfra.operations import apt, files, server, systemd

from gourmetops.facts import SshHostPublicKeys, SystemdUnit, fact_from_each, shared_fact
from gourmetops.jump import RELOAD_SSHD, SSHD_DROPIN, max_startups, sshd_dropin
from gourmetops.operations import authorized_head_key, known_hosts_lines
from gourmetops.settings import of_host

data = of_host(host)  # settings checked (with any --data) before the first operation
head = inventory.get_group("head")[0]
user = data.cluster_user
is_head = "head" in host.groups
# Each fact is a round trip (through node1 for the workers): ask for a home once.
home = shared_fact(host, Home)  # the workers ask for node1's too: one read of it
key_path = f"{home if is_head else shared_fact(head, Home)}/{data.cluster_key_path}"


def _existing_head_key() -> str | None:
    if not head.connected:
        return None
    lines = shared_fact(head, FileContents, path=f"{key_path}.pub")
    return lines[0].strip() if lines else None


# --- node1's cluster key ---------------------------------------------------------------
if is_head:
    files.directory(name="~/.ssh exists and is private", path=f"{home}/.ssh", mode="700")
    if not host.get_fact(File, path=key_path):
        server.shell(
            name=f"Generate the cluster key {key_path} (RSA {data.cluster_key_bits})",
            commands=[
                shlex.join(
                    ["ssh-keygen", "-t", "rsa", "-b", str(data.cluster_key_bits)]
                    + ["-f", key_path, "-q", "-N", ""]
                )
            ],
        )
    files.file(name="The cluster key is readable by its owner only", path=key_path, mode="600")

authorized_head_key(
    name=f"Authorise {head.name}'s cluster key for {user}",
    head=head.name,
    public_key_path=f"{key_path}.pub",
    user=user,
    home=home,
    # Read now when it is there already: the workers plan faster than node1, so this
    # costs them no wall time, and saves the operation a round trip to node1.
    public_key=None if is_head else _existing_head_key(),
)

# --- node1 knows every node's host key -------------------------------------------------
if is_head:
    names_by_address = {h.data.private_address: h.name for h in inventory}
    for node in inventory:
        if not node.connected:
            logger.warning(
                f"[{host.name}] no SSH host key from {node.name} ({node.data.private_address}); "
                "it is left out of known_hosts until a rerun reaches it"
            )
    keys_by_name = fact_from_each(
        [node for node in inventory if node.connected], SshHostPublicKeys, _sudo=True
    )
    host_keys = {inventory.get_host(n).data.private_address: k for n, k in keys_by_name.items()}
    files.block(
        name="Pin the cluster nodes' host keys in known_hosts",
        path=f"{home}/.ssh/known_hosts",
        content=known_hosts_lines(names_by_address, host_keys),
        marker="# {mark} gourmetops cluster nodes",
    )

# --- firewalld stopped and disabled ----------------------------------------------------
firewalld = host.get_fact(SystemdUnit, unit="firewalld.service")
if firewalld is None:
    host.noop("firewalld: PID 1 is not systemd, so no firewalld service can be running")
elif firewalld.get("LoadState") == "not-found":
    host.noop("firewalld: not installed, nothing to stop")
elif firewalld.get("ActiveState") == "inactive" and firewalld.get("UnitFileState") == "disabled":
    # Known from the planning fact: no operation, so no second look at execution time.
    host.noop("firewalld: already stopped and disabled")
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
        packages=data.docker_packages,
        present=False,
        _sudo=True,
    )
    docker_list = files.file(
        name=f"Remove {data.docker_apt_source}",
        path=data.docker_apt_source,
        present=False,
        _sudo=True,
    )
    apt.update(
        name="Refresh apt lists without the Docker source",
        _if=docker_list.did_change,
        _ignore_errors=data.apt_update_offline_ok,
        _sudo=True,
    )


# --- node1's sshd sized for the jump host's role ---------------------------------------
if is_head:
    nodes = len(inventory)
    dropin = files.put(
        name=f"Let {nodes} nodes connect through {head.name} at once "
        f"(sshd MaxStartups {max_startups(nodes)})",
        src=StringIO(sshd_dropin(nodes)),
        dest=SSHD_DROPIN,
        user="root",
        group="root",
        mode="644",
        _sudo=True,
    )
    # A broken sshd config would lock everyone out at the next restart: test before reload.
    server.shell(
        name="sshd accepts its configuration",
        commands=["sshd -t"],
        _if=dropin.did_change,
        _sudo=True,
    )
    server.shell(
        name="Reload sshd (open sessions stay)",
        commands=[RELOAD_SSHD],
        _if=dropin.did_change,
        _sudo=True,
    )
