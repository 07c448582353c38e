"""The checker itself: it must see a lost punch, a doubled punch and a punch nobody generated."""

from __future__ import annotations

from tests.chaos.harness import Ledger, check


def ledger_keys(count: int) -> list[str]:
    ledger = Ledger()
    for pin, when in ledger.next_punches(count):
        ledger.record(pin, when)
    return ledger.keys


def test_exact_delivery_reads_as_exact() -> None:
    keys = ledger_keys(5)
    report = check("exact", keys, dict.fromkeys(keys, 1), rounds=1, drain_seconds=0.0)
    figures = (report.generated, report.found, report.lost, report.duplicated, report.unexpected)
    assert figures == (5, 5, 0, 0, 0)


def test_loss_duplicates_and_strangers_are_each_counted() -> None:
    keys = ledger_keys(5)
    cloud = {keys[0]: 1, keys[1]: 3, keys[2]: 1, "SIM0000000001|99|2000-01-01 00:00:00|0": 1}
    report = check("faulty", keys, cloud, rounds=1, drain_seconds=1.234)
    assert (report.found, report.lost, report.duplicated, report.unexpected) == (3, 2, 2, 1)
    assert report.drain_seconds == 1.23


def test_a_burst_shares_one_second_with_distinct_people() -> None:
    ledger = Ledger()
    ledger.next_punches(7)
    burst = ledger.next_punches(500, same_time=True)
    assert len({when for _, when in burst}) == 1
    assert len({pin for pin, _ in burst}) == 500
