"""Reading siege's summary from real outputs, recorded against a local server on loopback:
siege 4.0.7 (Debian bookworm) with its JSON summary (the default) and the classic text one
(`json_output = false`), siege 4.1.6 (Debian trixie, in a chroot) with its default verbose
output, and runs against a port with nothing listening (siege gives up after about 1024
refused connections)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gourmetops.load.siege import SiegeError, parse

FIXTURES = Path(__file__).parent / "fixtures" / "siege"


def recorded(name: str):
    return parse(
        (FIXTURES / f"{name}.stdout").read_text(), (FIXTURES / f"{name}.stderr").read_text()
    )


def test_json_summary():
    r = recorded("healthy-4.0.7")
    assert (r.transactions, r.successful_transactions, r.failed_transactions) == (3614, 3614, 0)
    assert r.availability == 100.0 and r.elapsed_time == 2.90 and r.transaction_rate == 1246.21
    assert r.concurrency == 3.94 and r.longest_transaction == 0.02
    assert r.connection_refused == 0 and r.other_errors == 0


def test_classic_text_summary():
    r = recorded("healthy-text-4.0.7")
    assert r.transactions == 2551 and r.transaction_rate == 1342.63 and r.elapsed_time == 1.90
    assert r.failed_transactions == 0 and r.availability == 100.0


def test_refused_connections_are_counted():
    r = recorded("refused-4.0.7")
    assert r.transactions == 0 and r.failed_transactions == 1027 and r.availability == 0.0
    assert r.connection_refused == 1027 and r.other_errors == 0


def test_siege_4_1_classic_summary_after_verbose_request_lines():
    """siege 4.1.6 (Debian trixie), run in a trixie chroot against the same local server."""
    r = recorded("healthy-4.1.6")
    assert r.transactions == 2286 and r.transaction_rate == 1298.86 and r.concurrency == 1.88
    assert r.failed_transactions == 0 and r.connection_refused == 0


def test_siege_4_1_gives_up_on_refused_connections():
    r = recorded("refused-4.1.6")
    assert r.transactions == 0 and r.failed_transactions == 1025
    assert r.connection_refused > 1000


def test_no_summary_is_an_error():
    with pytest.raises(SiegeError, match="no siege summary"):
        parse("", "** SIEGE 4.0.7\n** Preparing 10 concurrent users for battle.\n")
    with pytest.raises(SiegeError, match="without"):
        parse('{"transactions": 1}')
