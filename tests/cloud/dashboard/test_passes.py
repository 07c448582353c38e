"""Dashboard passes: signed, expiring, and total (any text is a pass or a BadPass, never a crash)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cloud.dashboard import passes
from cloud.privacy import MasterKey

KEY = MasterKey(bytes(range(32)))
OTHER_KEY = MasterKey(bytes(range(1, 33)))
NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=1)


def a_pass(**changes: object) -> passes.Pass:
    fields: dict[str, object] = {"org_id": 7, "kind": "link", "subject_id": 3, "expires_at": LATER}
    return passes.Pass(**(fields | changes))  # type: ignore[arg-type]


def test_a_pass_round_trips() -> None:
    assert passes.verify(KEY, passes.issue(KEY, a_pass()), NOW) == a_pass()
    assert passes.verify(KEY, passes.issue(KEY, a_pass(kind="token")), NOW).kind == "token"


def test_another_key_or_a_changed_payload_is_refused() -> None:
    text = passes.issue(KEY, a_pass())
    with pytest.raises(passes.BadPass, match="not signed"):
        passes.verify(OTHER_KEY, text, NOW)
    stretched = passes.issue(OTHER_KEY, a_pass(expires_at=LATER + dt.timedelta(days=365)))
    payload = stretched.split(".")[0]
    with pytest.raises(passes.BadPass, match="not signed"):
        passes.verify(KEY, payload + "." + text.split(".")[1], NOW)


def test_an_expired_pass_is_refused() -> None:
    text = passes.issue(KEY, a_pass())
    assert passes.verify(KEY, text, LATER - dt.timedelta(seconds=1)).org_id == 7  # control
    with pytest.raises(passes.BadPass, match="expired"):
        passes.verify(KEY, text, LATER)


@given(st.text(max_size=300))
def test_any_text_is_a_pass_or_bad_pass(text: str) -> None:
    with contextlib.suppress(passes.BadPass):
        passes.verify(KEY, text, NOW)


def signed(payload: bytes) -> str:
    signature = hmac.new(passes._key(KEY), payload, hashlib.sha256).digest()
    return f"{passes._b64(payload)}.{passes._b64(signature)}"


@given(
    st.binary(max_size=80)
    | st.builds(
        "v1:{}:{}:{}:{}".format,
        st.integers(0, 10**12),
        st.sampled_from(["link", "token", "x"]),
        st.integers(0, 10**12),
        st.integers(0, 10**13),
    ).map(str.encode)
)
@example(b"v1:1:link:1:999999999999")  # past year 9999: datetime cannot hold it
def test_any_signed_payload_is_a_pass_or_bad_pass(payload: bytes) -> None:
    # Only we sign passes, but the decoder is total anyway: huge numbers, odd bytes, unknown kinds.
    with contextlib.suppress(passes.BadPass):
        passes.verify(KEY, signed(payload), NOW)
