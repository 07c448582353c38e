"""Field encryption (ENC-1): round trip, tamper and context binding, keyed lookups, master key handling."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloud.privacy import (
    FieldCipher,
    FieldCryptoError,
    MasterKey,
    OrgKey,
    hmac_lookup,
    normalise_phone,
    rewrap_org_key,
    unwrap_org_key,
    wrap_org_key,
)

ORG_KEY = OrgKey.generate("org-1")
CIPHER = FieldCipher(ORG_KEY)


@given(st.text(), st.sampled_from(["phone", "id_number", "birth_date", "guardian_contact"]))
def test_round_trip(plaintext: str, field: str) -> None:
    assert CIPHER.decrypt(field, CIPHER.encrypt(field, plaintext)) == plaintext


def test_encrypting_twice_gives_different_ciphertexts() -> None:
    assert CIPHER.encrypt("phone", "+8613800138000") != CIPHER.encrypt("phone", "+8613800138000")


def test_every_flipped_byte_is_detected() -> None:
    blob = CIPHER.encrypt("phone", "+8613800138000")
    assert CIPHER.decrypt("phone", blob) == "+8613800138000"  # control
    for index in range(len(blob)):
        tampered = bytearray(blob)
        tampered[index] ^= 0x01
        with pytest.raises(FieldCryptoError):
            CIPHER.decrypt("phone", bytes(tampered))


@pytest.mark.parametrize("length", [0, 1, 12, 28])
def test_truncated_ciphertexts_are_refused(length: int) -> None:
    with pytest.raises(FieldCryptoError):
        CIPHER.decrypt("phone", CIPHER.encrypt("phone", "x")[:length])


def test_a_ciphertext_cannot_move_to_another_column() -> None:
    blob = CIPHER.encrypt("phone", "+8613800138000")
    with pytest.raises(FieldCryptoError, match="guardian_contact"):
        CIPHER.decrypt("guardian_contact", blob)


def test_a_ciphertext_cannot_move_to_another_organisation() -> None:
    blob = CIPHER.encrypt("phone", "+8613800138000")
    with pytest.raises(FieldCryptoError, match="org-2"):
        FieldCipher(OrgKey.generate("org-2")).decrypt("phone", blob)
    # Even the same key material under another org id does not decrypt: the org id is bound in.
    with pytest.raises(FieldCryptoError):
        FieldCipher(OrgKey(org_id="org-2", data_key=ORG_KEY.data_key)).decrypt("phone", blob)


def test_lookup_hashes_match_within_an_organisation_only() -> None:
    phone = normalise_phone("138 0013 8000")
    same = hmac_lookup(ORG_KEY, normalise_phone("+86 138-0013-8000"))
    assert hmac_lookup(ORG_KEY, phone) == same
    assert len(same) == 32
    assert hmac_lookup(OrgKey.generate("org-2"), phone) != same
    assert hmac_lookup(ORG_KEY, normalise_phone("13800138001")) != same


def test_wrapped_keys_round_trip_and_bind_their_organisation() -> None:
    master = MasterKey.generate()
    wrapped = wrap_org_key(master, ORG_KEY)
    assert unwrap_org_key(master, "org-1", wrapped) == ORG_KEY
    assert ORG_KEY.data_key not in wrapped
    with pytest.raises(FieldCryptoError, match="organisation org-2"):
        unwrap_org_key(master, "org-2", wrapped)
    with pytest.raises(FieldCryptoError, match="another master key"):
        unwrap_org_key(MasterKey.generate(), "org-1", wrapped)
    tampered = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
    with pytest.raises(FieldCryptoError):
        unwrap_org_key(master, "org-1", tampered)


def test_rewrapping_moves_a_key_to_the_new_master() -> None:
    old, new = MasterKey.generate(), MasterKey.generate()
    rewrapped = rewrap_org_key(old, new, "org-1", wrap_org_key(old, ORG_KEY))
    assert unwrap_org_key(new, "org-1", rewrapped) == ORG_KEY
    with pytest.raises(FieldCryptoError):
        unwrap_org_key(old, "org-1", rewrapped)


def test_master_key_from_configuration() -> None:
    master = MasterKey.generate()
    assert MasterKey.from_base64(master.to_base64()) == master
    assert master.to_base64() not in repr(master)
    with pytest.raises(ValueError, match="32 bytes"):
        MasterKey(b"short")
    with pytest.raises(ValueError, match="placeholder"):
        MasterKey(bytes(32))
    with pytest.raises(ValueError, match="base64"):
        MasterKey.from_base64("not base64 at all!")


def test_keys_do_not_show_in_repr() -> None:
    assert ORG_KEY.data_key.hex() not in repr(ORG_KEY)
    assert repr(ORG_KEY.data_key) not in repr(ORG_KEY)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("0086 13800138000", "+8613800138000"),
        ("010-6552 9988", "+861065529988"),
        ("(+852) 2345 6789", "+85223456789"),
    ],
)
def test_phone_numbers_are_normalised(typed: str, canonical: str) -> None:
    assert normalise_phone(typed) == canonical


@pytest.mark.parametrize("typed", ["", "abc", "+0123456", "+1234567890123456", "12"])
def test_non_phone_numbers_are_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="not a phone number"):
        normalise_phone(typed)
