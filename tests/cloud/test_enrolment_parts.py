"""The enrolment building blocks on their own: the attempt window, the token seal, credentials."""

from __future__ import annotations

from cloud.enrolment import AttemptWindow, TokenSeal, credential_from
from cloud.pki import hash_enrolment_token, hash_short_code, new_enrolment_token


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_blocks_after_max_failures_and_forgets_old_ones() -> None:
    clock = FakeClock()
    window = AttemptWindow(max_failures=3, window_s=60, clock=clock)
    for _ in range(3):
        assert window.retry_after("10.0.0.1") is None
        window.record_failure("10.0.0.1")
        clock.now += 1
    assert window.retry_after("10.0.0.1") == 57  # now 1003; the first failure (1000) leaves at 1060
    assert window.retry_after("10.0.0.2") is None  # per address
    clock.now += 56.5
    assert window.retry_after("10.0.0.1") == 1.0  # never less than a second
    clock.now += 0.5
    assert window.retry_after("10.0.0.1") is None


def test_a_sealed_token_opens_only_for_its_row_and_key() -> None:
    token = new_enrolment_token().token
    seal = TokenSeal(b"ca key material")
    sealed = seal.seal(token, 7)
    assert token.encode() not in sealed
    assert seal.open(sealed, 7) == token
    assert seal.open(sealed, 8) is None
    assert TokenSeal(b"another ca").open(sealed, 7) is None
    assert seal.open(b"short", 7) is None


def test_credentials_tell_tokens_from_short_codes() -> None:
    fresh = new_enrolment_token()
    token = credential_from(fresh.token)
    assert token is not None
    assert (token.column_hash, token.is_short_code) == (hash_enrolment_token(fresh.token), False)
    code = credential_from(fresh.short_code.lower())
    assert code is not None
    assert (code.column_hash, code.is_short_code) == (hash_short_code(fresh.short_code), True)
    assert credential_from("nope!") is None
