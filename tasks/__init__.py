"""Fabric tasks that orchestrate the GourmetGram-on-Kubernetes stages.

    fab up --target lab         # every stage in order (brings the lab up first)
    fab prepare --target chameleon --dry
    fab render --out plan/      # every generated file, no host contacted
    fab lab.status

Targets: `lab` (the local lab of cluster.yaml's nodes, the default) and `chameleon` (real nodes;
node1's floating IP from GOURMETOPS_FLOATING_IP or chameleon.local.yaml). One module per
concern (up, check, hosts, app, load, lab, nodes); their tasks sit flat at the top, as users
type them, but lab's and nodes' (`fab lab.up`, `fab nodes.remove`).
"""

from __future__ import annotations

from invoke import Collection

from tasks import app, check, hosts, lab, load, nodes, up

ns = Collection()
for module in (up, check, hosts, app, load):
    for name, t in Collection.from_module(module).tasks.items():
        ns.add_task(t, name)
ns.add_collection(Collection.from_module(lab, name="lab"))
ns.add_collection(Collection.from_module(nodes, name="nodes"))
