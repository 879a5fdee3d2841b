"""A lab node's identity, given before it boots: its hostname and /etc/hosts, its host
keys (made once per node, kept across resets) and the controller's authorized key."""

from __future__ import annotations

import os
from pathlib import Path

from gourmetops.cluster import Cluster, Node
from gourmetops.lab.machines import DATA_DIR, merged_dir
from gourmetops.lab.system import LabError, run
from gourmetops.safe_write import write_text


def _install_host_keys(name: str, root: Path) -> None:
    """The node's host keys, made once per node under DATA_DIR/hostkeys (an RSA key took
    most of a pristine reset's CPU) and kept across resets, as a VM rebuilt from its image
    keeps its identity; a node restored from a snapshot has them already."""
    kept = DATA_DIR / "hostkeys" / name
    made = sorted((kept / "etc" / "ssh").glob("ssh_host_*_key*"))
    if not made:
        (kept / "etc" / "ssh").mkdir(parents=True, exist_ok=True)
        run(["ssh-keygen", "-q", "-A", "-f", str(kept)])
        made = sorted((kept / "etc" / "ssh").glob("ssh_host_*_key*"))
    for key in made:
        dest = root / "etc" / "ssh" / key.name
        if not os.path.lexists(dest):
            mode = 0o644 if key.suffix == ".pub" else 0o600
            write_text(dest, key.read_text(), f"{name}'s host key", mode)


def personalize(node: Node, cluster: Cluster, authorized_key: str) -> dict[str, str]:
    """Give the node its identity before boot; returns its new host public keys."""
    root = merged_dir(node.name)
    # The node's root may have left links in its tree (a restored snapshot): every write
    # here refuses one, and the home and .ssh directories must be real directories, or a
    # write meant for the node would land on the host.
    write_text(root / "etc" / "hostname", f"{node.name}\n", f"{node.name}'s /etc/hostname")
    hosts = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
    hosts += [f"{n.address} {n.name}" for n in cluster.nodes]
    write_text(root / "etc" / "hosts", "\n".join(hosts) + "\n", f"{node.name}'s /etc/hosts")
    _install_host_keys(node.name, root)
    home = root / "home" / cluster.user
    ssh_dir = home / ".ssh"
    for directory in (root / "home", home, ssh_dir):
        if directory.is_symlink():
            raise LabError(f"{node.name}: {directory} is a link; refusing to write through it")
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    # Pristine nodes get the controller's key alone; a node restored from a snapshot keeps
    # the keys its stages authorised (node1's, for kubespray's ansible) beside it.
    authorized = ssh_dir / "authorized_keys"
    present = authorized.read_text() if authorized.exists() else ""
    if present and not present.endswith("\n"):
        present += "\n"
    if authorized_key.strip() not in present.splitlines():
        write_text(authorized, present + authorized_key, f"{node.name}'s authorized_keys", 0o600)
    stat = home.stat()
    for path in (ssh_dir, ssh_dir / "authorized_keys"):
        os.chown(path, stat.st_uid, stat.st_gid)
    (ssh_dir / "authorized_keys").chmod(0o600)
    keys = {}
    for pub in sorted((root / "etc" / "ssh").glob("ssh_host_*_key.pub")):
        kind, blob = pub.read_text().split()[:2]
        keys[kind] = blob
    return keys
