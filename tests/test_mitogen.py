"""Mitogen's strategy (the benchmark's "ansible, mitogen" contender) loads and runs modules
under the installed ansible-core, and the proof the benchmark requires of a Mitogen run
(benchmarks/mitogen.mitogen_problems) tells a Mitogen run from a plain one.

Real ansible-playbook, against localhost with ansible_connection=local, no lab. What this
proves: mitogen_linear loads with this ansible-core; Mitogen's local connection runs, in its
own interpreter, the modules of benchmarks/ansible/prepare.yml that can act on a scratch
directory (file, copy, blockinfile, shell, community.crypto.openssh_keypair,
ansible.posix.authorized_key), and a rerun under it reports no change. What it does not:
Mitogen's ssh connection, ProxyJump through node1, become (sudo), apt and systemd_service;
those run only in the benchmark on the lab, where run_playbook demands the same proof
(Mitogen's ssh to every node) before it reports a time.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.ansible_reference import ANSIBLE_PLAYBOOK
from benchmarks.mitogen import (
    mitogen_env,
    mitogen_playbook,
    mitogen_problems,
    mitogen_stacks,
)
from gourmetops.kubespray.recap import parse_recap

PLAY = """\
- name: Modules of the prepare reference, on a scratch directory
  hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.file:
        path: "{{ work }}/ssh"
        state: directory
        mode: "0700"
    - community.crypto.openssh_keypair:
        path: "{{ work }}/ssh/id_ed25519"
        type: ed25519
        mode: "0600"
      register: key
    - ansible.posix.authorized_key:
        user: "{{ user }}"
        path: "{{ work }}/ssh/authorized_keys"
        manage_dir: false
        key: "{{ key.public_key }}"
    - ansible.builtin.shell: cat "{{ work }}/ssh/id_ed25519.pub"
      changed_when: false
      register: pub
    - ansible.builtin.blockinfile:
        path: "{{ work }}/known_hosts"
        create: true
        mode: "0644"
        block: "localhost {{ pub.stdout.split()[:2] | join(' ') }}"
    - ansible.builtin.copy:
        dest: "{{ work }}/written"
        content: "written under {{ ansible_play_name }}\\n"
        mode: "0644"
"""


EMPTY_PLAY = "- hosts: all\n  gather_facts: false\n  tasks: []\n"


def play(tmp_path: Path, *, mitogen: bool, text: str = PLAY) -> subprocess.CompletedProcess[str]:
    """A playbook on localhost, then the proof play, with or without Mitogen."""
    (tmp_path / "play.yml").write_text(text)
    hosts = tmp_path / "hosts.json"
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    hosts.write_text(json.dumps({"all": {"hosts": {"localhost": local}}}))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="False")
    env.update(ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_REMOTE_TEMP=str(tmp_path / "tmp"))
    env.update(mitogen_env())
    if not mitogen:  # the same plugin paths (for the proof's action), the stock strategy
        env["ANSIBLE_STRATEGY"] = "linear"
    argv = [
        ANSIBLE_PLAYBOOK,
        "-i",
        str(hosts),
        str(mitogen_playbook(tmp_path / "play.yml", tmp_path)),
    ]
    argv += ["-e", json.dumps({"work": str(tmp_path / "work"), "user": getpass.getuser()})]
    return subprocess.run(
        argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300
    )


def test_mitogen_linear_runs_the_reference_modules_and_converges(tmp_path: Path):
    (tmp_path / "work").mkdir()
    first = play(tmp_path, mitogen=True)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    assert mitogen_problems(first.stdout, ["localhost"], "local") == []
    assert mitogen_stacks(first.stdout) == {"localhost": ["local"]}
    assert parse_recap(first.stdout)["localhost"].changed == 5, first.stdout[-3000:]
    work = tmp_path / "work"
    assert (work / "written").read_text() == "written under " + (
        "Modules of the prepare reference, on a scratch directory\n"
    )
    public = (work / "ssh" / "id_ed25519.pub").read_text().split()[:2]
    assert " ".join(public) in (work / "ssh" / "authorized_keys").read_text()
    assert f"localhost {' '.join(public)}" in (work / "known_hosts").read_text()

    again = play(tmp_path, mitogen=True)
    assert again.returncode == 0, again.stdout[-3000:]
    assert mitogen_problems(again.stdout, ["localhost"], "local") == []
    assert parse_recap(again.stdout)["localhost"].changed == 0, again.stdout[-3000:]


def test_a_run_without_mitogen_has_no_proof(tmp_path: Path):
    """The proof is not vacuous: the stock strategy, with Mitogen's action found all the
    same, leaves mitogen_get_stack skipped, and a missing host or method is named."""
    plain = play(tmp_path, mitogen=False, text=EMPTY_PLAY)
    assert plain.returncode == 0, plain.stdout[-3000:]
    assert mitogen_stacks(plain.stdout) == {"localhost": []}
    assert mitogen_problems(plain.stdout, ["localhost", "node2"], "local") == [
        "localhost: mitogen_get_stack skipped, not a Mitogen connection",
        "node2: no result from the proof task",
    ]
    assert mitogen_problems("PLAY RECAP ***\n", ["node1"], "ssh") == [
        "the proof task (gourmetops: the connection stack Mitogen built) did not run"
    ]


def test_proof_read_from_one_line_results_too():
    """ANSIBLE_CALLBACK_FORMAT_PRETTY=false prints each result on one line."""
    output = (
        "TASK [gourmetops: the connection stack Mitogen built] ******\n"
        'ok: [node1] => {"changed": false, "result": [{"kwargs": {}, "method": "ssh"}]}\n'
        'ok: [node2] => {"changed": false, "result": [{"kwargs": {}, "method": "local"}]}\n'
        "\nPLAY RECAP ******\n"
    )
    assert mitogen_stacks(output) == {"node1": ["ssh"], "node2": ["local"]}
    assert mitogen_problems(output, ["node1", "node2"], "ssh") == [
        "node2: Mitogen connected by local, not ssh"
    ]
