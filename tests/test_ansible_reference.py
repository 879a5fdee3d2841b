"""The benchmark's Ansible reference (benchmarks/ansible/prepare.yml) really produces the
host state of deploys/prepare.py: checked on the nodes, and our deploy run after it finds
nothing to change. Without this the speed comparison in docs/benchmarks.md would compare
different work. Real ansible-playbook, real lab nodes, through the same jump host."""

from __future__ import annotations

from benchmarks.ansible_reference import run_playbook, state_problems
from tests.labtools import Lab, results_total


def test_ansible_reference_reaches_our_state_and_converges(fresh_lab: Lab):
    target = fresh_lab.target
    first = run_playbook(target, pipelining=True)
    assert first.changed > 0
    assert all(r.healthy for r in first.recap.values()), first.output[-3000:]
    assert state_problems(target) == []

    ours = fresh_lab.pyinfra("prepare")
    assert ours.returncode == 0, ours.stdout[-3000:]
    assert results_total(ours.stdout)["success"] == "-", ours.stdout[-3000:]

    again = run_playbook(target, pipelining=False)
    assert again.changed == 0, again.output[-3000:]
