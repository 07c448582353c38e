"""Lookup lists padded to powers of two: few statement texts, the same set of values."""

from __future__ import annotations

from cloud.db.bind_lists import padded


def test_padded_lengths_are_powers_of_two_and_keep_the_values() -> None:
    lengths = set()
    for n in range(1, 1025):
        values = [str(i) for i in range(n)]
        out = padded(values)
        assert out[:n] == values
        assert set(out) == set(values)
        lengths.add(len(out))
    assert lengths == {1 << k for k in range(11)}  # 1..1024 values: 11 texts, not 1,024
    assert padded([]) == []
