"""Reading ansible-playbook's stdout: the PLAY RECAP, per-task progress and the first failure.

Fed with real output: the recap printed in the kubespray tutorial, and runs of the playbooks
in tests/fixtures/ansible/playbook captured from ansible-core 2.19 (see the README there).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gourmetops.kubespray.playbook import tasks_last_time
from gourmetops.kubespray.recap import (
    HostRecap,
    PlaybookProgress,
    RecapError,
    TaskFailure,
    parse_recap,
    strip_ansi,
    summarize_failure,
)

FIXTURES = Path(__file__).parent / "fixtures" / "ansible"

# What both captures of site.yml (plain and coloured) must read as.
RUN_RECAP = {
    "ghost": HostRecap("ghost", ok=0, changed=0, unreachable=1, failed=0, skipped=0),
    "localhost": HostRecap(
        "localhost", ok=8, changed=4, unreachable=0, failed=0, skipped=2, rescued=1, ignored=2
    ),
    "other": HostRecap(
        "other", ok=6, changed=3, unreachable=0, failed=1, skipped=1, rescued=1, ignored=2
    ),
}
RUN_PROGRESS = [
    "[task 1] PLAY Prepare nodes | TASK Say hello",
    "[task 2] PLAY Prepare nodes | TASK Probe optional feature",
    "[task 3] PLAY Prepare nodes | TASK Check items",
    "[task 4] PLAY Prepare nodes | TASK Try a step that fails",
    "[task 5] PLAY Prepare nodes | TASK Note the recovery",
    "[task 6] PLAY Prepare nodes | TASK Touch marker",
    "[task 7] PLAY Prepare nodes | TASK Never runs",
    "[task 8] PLAY Prepare nodes | HANDLER Restart thing",
    "[task 9] PLAY k8s_cluster | TASK kubernetes/preinstall : Stop if swap enabled",
    "[task 10] PLAY k8s_cluster | TASK kubernetes/preinstall : Create kubernetes directories",
    "[task 11] PLAY k8s_cluster | TASK After preinstall",
    "[task 12] PLAY Reach remote | TASK Ping remote",
]
SWAP_TASK = "kubernetes/preinstall : Stop if swap enabled"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def follow(text: str) -> tuple[PlaybookProgress, list[str]]:
    """Feed the output line by line, as the streaming reader does; keep what it shows."""
    progress = PlaybookProgress()
    shown = [s for line in text.splitlines(keepends=True) if (s := progress.feed(line))]
    return progress, shown


def lines_until(text: str, marker: str, extra: int = 0) -> list[str]:
    """The output up to and including the first line containing marker, plus extra lines."""
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if marker in line)
    return lines[: index + 1 + extra]


# --- parse_recap -------------------------------------------------------------------------


def test_recap_from_the_kubespray_tutorial():
    recap = parse_recap(fixture("kubespray_tutorial_recap.txt"))
    assert list(recap) == ["localhost", "node1", "node2", "node3"]
    assert recap["node1"] == HostRecap(
        "node1", ok=752, changed=149, unreachable=0, failed=0, skipped=1276, rescued=0, ignored=8
    )
    assert recap["node2"] == HostRecap(
        "node2", ok=652, changed=136, unreachable=0, failed=0, skipped=1124, rescued=0, ignored=3
    )
    assert recap["node3"] == HostRecap(
        "node3", ok=535, changed=112, unreachable=0, failed=0, skipped=797, rescued=0, ignored=2
    )
    assert recap["localhost"] == HostRecap("localhost", 3, 0, 0, 0, 0, 0, 0)
    assert all(h.healthy for h in recap.values())


@pytest.mark.parametrize("name", ["run_nocolor.txt", "run_color.txt"])
def test_recap_of_a_real_failed_run(name):
    recap = parse_recap(fixture(name))
    assert recap == RUN_RECAP
    assert [h.host for h in recap.values() if not h.healthy] == ["ghost", "other"]
    assert recap["localhost"].healthy  # its ignored and rescued errors do not count


def test_the_coloured_capture_really_is_coloured():
    text = fixture("run_color.txt")
    recap_line = next(line for line in text.splitlines() if "other" in line and "failed=1" in line)
    assert "\x1b[0;31mfailed=1   \x1b[0m" in recap_line
    assert strip_ansi(text) != text
    assert "\x1b" not in fixture("run_nocolor.txt")


def test_the_last_recap_wins():
    text = fixture("kubespray_tutorial_recap.txt") + "\n" + fixture("run_nocolor.txt")
    assert parse_recap(text) == RUN_RECAP


def test_a_killed_run_has_no_recap():
    text = fixture("run_killed.txt")  # SIGTERM while a task was running
    with pytest.raises(RecapError, match="no PLAY RECAP"):
        parse_recap(text)


def test_output_cut_before_the_recap_has_none():
    lines = lines_until(fixture("run_nocolor.txt"), "UNREACHABLE!")
    with pytest.raises(RecapError):
        parse_recap("\n".join(lines))
    with pytest.raises(RecapError):
        parse_recap("")


def test_a_recap_without_hosts_is_empty_not_an_error():
    assert parse_recap(fixture("run_no_hosts.txt")) == {}


def test_recap_of_ansible_before_2_8():
    # Before 2.8 the default callback printed four columns: "%s : %s %s %s %s" of
    # hostcolor (padded to 26) and colorize ("%s=%-4s") for ok, changed, unreachable, failed.
    text = (
        "PLAY RECAP *********************************************************************\n"
        "node1                      : ok=3    changed=1    unreachable=0    failed=0   \n"
        "node2                      : ok=1    changed=0    unreachable=1    failed=0   \n"
    )
    recap = parse_recap(text)
    assert recap["node1"] == HostRecap("node1", 3, 1, 0, 0, 0, 0, 0)
    assert not recap["node2"].healthy


def test_a_recap_line_without_the_basic_columns_is_an_error():
    with pytest.raises(RecapError, match="without changed, unreachable"):
        parse_recap("PLAY RECAP ***\nnode1 : ok=3 failed=0\n")


# --- PlaybookProgress -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["run_nocolor.txt", "run_color.txt"])
def test_progress_of_a_real_run(name):
    progress, shown = follow(fixture(name))
    assert shown == RUN_PROGRESS
    assert progress.task_count == 12
    assert (progress.play, progress.task) == ("Reach remote", "Ping remote")
    assert progress.first_failure == ("other", SWAP_TASK)
    assert progress.failures == [
        TaskFailure("other", SWAP_TASK, "k8s_cluster", task_number=9),
        TaskFailure("ghost", "Ping remote", "Reach remote", task_number=12, unreachable=True),
    ]


def test_an_ignored_failure_stops_counting_at_ignoring():
    lines = lines_until(fixture("run_nocolor.txt"), "fatal: [localhost]: FAILED!")
    progress = PlaybookProgress()
    for line in lines:
        progress.feed(line)
    # Until "...ignoring" it is a failure like any other ...
    assert progress.first_failure == ("localhost", "Probe optional feature")
    assert progress.feed("...ignoring") is None
    # ... and then it is not.
    assert progress.first_failure is None


def test_ignored_loop_items_do_not_count():
    lines = lines_until(fixture("run_nocolor.txt"), "TASK [Try a step that fails]")
    assert sum(line.startswith("failed: [") and "(item=bad)" in line for line in lines) == 2
    progress = PlaybookProgress()
    for line in lines:
        progress.feed(line)
    assert progress.failures == []


def test_a_rescued_failure_stops_counting_when_the_host_runs_on():
    text = fixture("run_nocolor.txt")
    progress = PlaybookProgress()
    before_rescue = lines_until(text, "TASK [Note the recovery]")
    for line in before_rescue:
        progress.feed(line)
    # Both hosts failed "Try a step that fails"; nothing in these lines says it is rescued.
    assert [(f.host, f.task) for f in progress.failures] == [
        ("localhost", "Try a step that fails"),
        ("other", "Try a step that fails"),
    ]
    progress.feed("ok: [localhost] => {")  # the next line of the capture
    assert progress.first_failure == ("other", "Try a step that fails")
    progress.feed("ok: [other] => {")
    assert progress.first_failure is None


def test_progress_of_a_killed_run():
    progress, shown = follow(fixture("run_killed.txt"))
    assert shown == [
        f"[task 1] PLAY k8s_cluster | TASK {SWAP_TASK}",
        "[task 2] PLAY k8s_cluster | TASK kubernetes/preinstall : Create kubernetes directories",
        "[task 3] PLAY k8s_cluster | TASK Download kubeadm",
    ]
    assert progress.first_failure == ("other", SWAP_TASK)


def test_feed_shows_only_task_starts():
    progress = PlaybookProgress()
    assert progress.feed("PLAY [k8s_cluster] ******\n") is None
    assert progress.feed("PLAY RECAP ******\n") is None
    assert progress.feed("ok: [node1]\r\n") is None
    assert progress.feed("FAILED - RETRYING: [node1]: Wait for it (5 retries left).") is None
    assert progress.failures == []
    assert progress.feed("TASK [etcd : Configure | Check if etcd cluster is healthy] ***") == (
        "[task 1] PLAY k8s_cluster | TASK etcd : Configure | Check if etcd cluster is healthy"
    )

    # --check with ANSIBLE_CHECK_MODE_MARKERS=1, as ansible-core 2.19 prints it.
    progress.feed(
        "PLAY [k8s_cluster] [CHECK MODE] ************************************************"
    )
    banner = f"TASK [{SWAP_TASK}] [CHECK MODE] ***************"
    assert progress.feed(banner) == f"[task 2] PLAY k8s_cluster | TASK {SWAP_TASK}"


def test_a_delegated_failure_belongs_to_the_host_it_ran_for():
    progress = PlaybookProgress()
    progress.feed("TASK [kubernetes/control-plane : Joining control plane node] ***")
    progress.feed('fatal: [node2 -> node1]: FAILED! => {"changed": false}')
    assert progress.first_failure == (
        "node2",
        "kubernetes/control-plane : Joining control plane node",
    )


# --- summarize_failure --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["run_nocolor.txt", "run_color.txt"])
def test_summary_of_a_real_failed_run(name):
    text = fixture(name)
    progress, _ = follow(text)
    assert summarize_failure(parse_recap(text), progress) == (
        "failed hosts: ghost (unreachable=1), other (failed=1); "
        f"first failed task: {SWAP_TASK} on other"
    )


def test_summary_in_the_briefs_words():
    recap = {
        "node1": HostRecap("node1", 10, 1, 0, 0),
        "node2": HostRecap("node2", 5, 1, 0, 1),
        "node3": HostRecap("node3", 0, 0, 1, 0),
    }
    progress = PlaybookProgress()
    for line in [
        "PLAY [k8s_cluster] ****",
        f"TASK [{SWAP_TASK}] ****",
        "ok: [node1]",
        'fatal: [node2]: FAILED! => {"msg": "Swap is enabled"}',
        'fatal: [node3]: UNREACHABLE! => {"unreachable": true}',
    ]:
        progress.feed(line)
    assert summarize_failure(recap, progress) == (
        "failed hosts: node2 (failed=1), node3 (unreachable=1); "
        f"first failed task: {SWAP_TASK} on node2"
    )


def test_summary_blames_only_hosts_the_recap_calls_unhealthy():
    # Cut after the rescued failure but before the rescue printed anything: the progress
    # still holds localhost's failure, the recap (of the whole run) says localhost is fine.
    text = fixture("run_nocolor.txt")
    progress = PlaybookProgress()
    for line in lines_until(text, "TASK [Note the recovery]"):
        progress.feed(line)
    assert progress.first_failure == ("localhost", "Try a step that fails")
    assert summarize_failure(parse_recap(text), progress).endswith(
        "first failed task: Try a step that fails on other"
    )


def test_summary_when_no_failure_was_seen():
    recap = parse_recap(fixture("kubespray_tutorial_recap.txt"))
    assert summarize_failure(recap, PlaybookProgress()) == (
        "no failed or unreachable hosts in the recap; first failed task: not seen in the output"
    )


def test_progress_says_how_far_against_the_last_run_on_a_simulated_clock(tmp_path):
    """The count comes from the newest log of the playbook that reached its recap (a real
    run's output), the time from the clock given (simulated here: 75 s per task)."""
    run = fixture("run_nocolor.txt")
    (tmp_path / "cluster-20261201-100000-1.log").write_text(run)
    (tmp_path / "cluster-20261201-110000-1.log").write_text("PLAY [cut short]\n")  # no recap
    expected = tasks_last_time(tmp_path, "cluster")
    assert expected == follow(run)[0].task_count == 12
    assert tasks_last_time(tmp_path, "scale") is None
    now = [0.0]

    def clock() -> float:
        now[0] += 75.0
        return now[0]

    progress = PlaybookProgress(expected, clock)
    shown = [s for line in run.splitlines(keepends=True) if (s := progress.feed(line))]
    assert shown[0] == "[task 1] PLAY Prepare nodes | TASK Say hello  (of about 12; 1:15 in)"
    assert shown[1].endswith("TASK Probe optional feature  (of about 12; 2:30 in)")
    assert PlaybookProgress().feed("TASK [x] ***") == "[task 1] TASK x"  # no count, no clock
