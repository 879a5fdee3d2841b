"""The lab tier as two shards side by side, each on a lab of its own: one lab keeps about
40% of this machine's two cores idle (waiting on node boots, SSH and playbooks), two fill
them (docs/benchmarks.md, "The lab tier in two shards").

    python -m tests.lab_shards [PYTEST ARGS]

Shard 1 runs here. Shard 2 runs in a copy of the checkout's tracked files under
.lab/shard2/ (its own .state and .lab, the rootfs hard-linked from this one), as lab
instance "2" (gourmetops.lab.instance: its own namespaces, cgroup, data and run
directories) with the next public network after this lab's in its cluster.yaml. Which
module runs where: tests/conftest.py, SECOND_SHARD_MODULES. Shard 1's output is shown as it
comes, shard 2's when it ends; the exit status is 0 only when both passed.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import sys

from gourmetops import FIXTURES_DIR, PROJECT_ROOT
from gourmetops.cluster import load_cluster
from gourmetops.lab.instance import INSTANCE_ENV
from tests.cli import copy_tracked
from tests.conftest import SHARD_ENV

SECOND = PROJECT_ROOT / ".lab" / "shard2"
CHECKOUT = SECOND / "gourmetops"
LOG = SECOND / "pytest.log"
INSTANCE = "2"
# What the second checkout shares with this one (read-only lower layers of every node).
SHARED_LAB_FILES = ("rootfs", "rootfs.recipe.json", "layers")


def second_env() -> dict[str, str]:
    """PYTHONPATH first: the copy's gourmetops, not the editable install's (this
    checkout's); the offline mirror where this checkout finds it (beside it, ../shared)."""
    return {
        **os.environ,
        SHARD_ENV: "2",
        INSTANCE_ENV: INSTANCE,
        "PYTHONPATH": str(CHECKOUT),
        "GOURMETOPS_FIXTURES": str(FIXTURES_DIR),
    }


def next_public_network(cluster_text: str, public: str) -> str:
    """cluster.yaml's text with lab.public_network moved to the next block of its size."""
    net = ipaddress.IPv4Network(public)
    moved = ipaddress.IPv4Network((int(net.network_address) + net.num_addresses, net.prefixlen))
    line = f"public_network: {public}"
    if cluster_text.count(line) != 1:
        raise SystemExit(f"lab_shards: cluster.yaml has no single line {line!r} to move")
    return cluster_text.replace(line, f"public_network: {moved}")


def make_second_checkout() -> None:
    if CHECKOUT.exists():  # a stale second lab runs on its files: stopped first
        subprocess.run(
            [sys.executable, "-c", "from gourmetops import lab; lab.down()"],
            cwd=CHECKOUT,
            env=second_env(),
            check=True,
        )
    shutil.rmtree(SECOND, ignore_errors=True)
    copy_tracked(CHECKOUT)
    # A repository of its own: tests list "the checkout's files" with git, which in a
    # directory under this checkout's ignored .lab/ would find none.
    git = ["git", "-C", str(CHECKOUT), "-c", "user.name=lab_shards", "-c", "user.email=-"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "shard 2's copy"]):
        subprocess.run([*git, *args], check=True)
    (CHECKOUT / ".lab").mkdir()
    for name in SHARED_LAB_FILES:
        subprocess.run(
            ["cp", "-al", str(PROJECT_ROOT / ".lab" / name), str(CHECKOUT / ".lab" / name)],
            check=True,
        )
    lab = load_cluster().lab
    assert lab is not None
    cluster = CHECKOUT / "cluster.yaml"
    cluster.write_text(next_public_network(cluster.read_text(), str(lab.public_network)))


def main(args: list[str]) -> int:
    make_second_checkout()
    pytest = [sys.executable, "-m", "pytest", "-m", "lab", *args]
    with LOG.open("w") as log:
        second = subprocess.Popen(
            pytest, cwd=CHECKOUT, env=second_env(), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        first = subprocess.run(
            pytest, cwd=PROJECT_ROOT, env={**os.environ, SHARD_ENV: "1"}, stdin=subprocess.DEVNULL
        ).returncode
        second_code = second.wait()
    print(f"\n==> lab tier, shard 2 (in {CHECKOUT}, lab instance {INSTANCE}):", flush=True)
    sys.stdout.write(LOG.read_text())
    print(f"==> lab tier: shard 1 exited {first}, shard 2 exited {second_code}", flush=True)
    return 0 if first == second_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
