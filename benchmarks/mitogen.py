"""Mitogen for the Ansible reference: its strategy and action plugins found in the installed
package, the environment that turns it on, and the proof that a run really went through
Mitogen's connections (its own `mitogen_get_stack` action, run as the playbook's last
play), so a time is reported as Mitogen's only when it is.

Used by benchmarks/ansible_reference.py and tests/test_mitogen.py."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable
from pathlib import Path

from gourmetops import PROJECT_ROOT
from gourmetops.kubespray.recap import strip_ansi

MITOGEN_PROOF = PROJECT_ROOT / "benchmarks" / "ansible" / "mitogen_proof.yml"
MITOGEN_PROOF_TASK = "gourmetops: the connection stack Mitogen built"


class MitogenError(RuntimeError):
    """Mitogen is not installed, or a run meant for it did not go through its connections:
    the run's time is not Mitogen's, so it must not be reported as such."""


def mitogen_plugins() -> Path:
    """ansible_mitogen's plugins directory, found from the installed package (a fixed path
    would break with another venv or Python)."""
    spec = importlib.util.find_spec("ansible_mitogen")
    if spec is None or spec.origin is None:
        raise MitogenError("mitogen is not installed (pip install -e '.[dev]')")
    return Path(spec.origin).parent / "plugins"


def mitogen_env() -> dict[str, str]:
    """What makes ansible-playbook run under Mitogen's linear strategy, and load Mitogen's
    action mitogen_get_stack for the proof play (benchmarks/ansible/mitogen_proof.yml)."""
    plugins = mitogen_plugins()
    return {
        "ANSIBLE_STRATEGY_PLUGINS": str(plugins / "strategy"),
        "ANSIBLE_ACTION_PLUGINS": str(plugins / "action"),
        "ANSIBLE_STRATEGY": "mitogen_linear",
        # The proof is read from the default callback's JSON (not YAML) results.
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
    }


def mitogen_playbook(playbook: Path, directory: Path) -> Path:
    """A playbook that plays `playbook`, then the proof play, in one run (so one PLAY
    RECAP, and the proof is about this very run). JSON strings are YAML: paths quoted."""
    path = directory / f"{playbook.stem}-mitogen.yml"
    imports = (f"- import_playbook: {json.dumps(str(p))}\n" for p in (playbook, MITOGEN_PROOF))
    path.write_text("".join(imports))
    return path


def _result_json(lines: list[str], i: int, first: str) -> dict:
    """The JSON result that starts with `first` on line i: on that line, or pretty-printed
    down to its closing brace at column 0 (the default callback's two layouts); {} if none."""
    end = i if first != "{" else next((j for j in range(i, len(lines)) if lines[j] == "}"), i)
    try:
        value = json.loads("\n".join([first, *lines[i + 1 : end + 1]]))
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def mitogen_stacks(output: str) -> dict[str, list[str]] | None:
    """Each host's connection methods as the proof task reported them ([] where the task
    was skipped: no Mitogen connection); None when the proof task never ran."""
    lines = [strip_ansi(line).rstrip() for line in output.splitlines()]
    starts = [i for i, line in enumerate(lines) if line.startswith(f"TASK [{MITOGEN_PROOF_TASK}]")]
    if not starts:
        return None
    stacks: dict[str, list[str]] = {}
    for i in range(starts[-1] + 1, len(lines)):
        line = lines[i]
        if line.startswith(("TASK [", "PLAY ", "RUNNING HANDLER [")):
            break
        head, _, rest = line.partition(" => ")
        status, _, host = head.partition(": [")
        if status == "skipping" and host.endswith("]"):
            stacks[host[:-1]] = []
        elif status == "ok" and host.endswith("]") and rest:
            frames = _result_json(lines, i, rest).get("result")
            if isinstance(frames, list):
                stacks[host[:-1]] = [str(f.get("method")) for f in frames if isinstance(f, dict)]
    return stacks


def mitogen_problems(output: str, hosts: Iterable[str], method: str) -> list[str]:
    """Why the run's output does not prove that Mitogen connected to every host by `method`
    (ssh on the lab, local in the unit test); empty when it does."""
    stacks = mitogen_stacks(output)
    if stacks is None:
        return [f"the proof task ({MITOGEN_PROOF_TASK}) did not run"]
    problems = []
    for host in hosts:
        stack = stacks.get(host)
        if stack is None:
            problems.append(f"{host}: no result from the proof task")
        elif not stack:
            problems.append(f"{host}: mitogen_get_stack skipped, not a Mitogen connection")
        elif stack[0] != method:
            problems.append(f"{host}: Mitogen connected by {'/'.join(stack)}, not {method}")
    return problems
