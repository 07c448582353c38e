"""Enrolment tokens: formats, hashes, short codes people can type, QR codes as PNG."""

from __future__ import annotations

import base64
import hashlib
import re
import stat
from pathlib import Path

import pytest
from PIL import Image

from cloud.pki import hash_enrolment_token, hash_short_code, new_enrolment_token, normalise_short_code, qr_png


def test_a_token_is_32_random_urlsafe_bytes_stored_as_its_hash() -> None:
    token, short_code, token_hash = new_enrolment_token()
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert token_hash == hashlib.sha256(token.encode()).hexdigest() == hash_enrolment_token(token)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", short_code)
    assert token not in token_hash
    assert short_code.replace("-", "") not in token


def test_tokens_and_short_codes_do_not_repeat() -> None:
    issued = [new_enrolment_token() for _ in range(200)]
    assert len({item.token for item in issued}) == 200
    assert len({item.short_code for item in issued}) == 200


@pytest.mark.parametrize("typed", ["abcd-efgh", "ABCDEFGH", " abcd efgh ", "ABCD-EFGH"])
def test_short_codes_are_normalised(typed: str) -> None:
    assert normalise_short_code(typed) == "ABCD-EFGH"
    assert hash_short_code(typed) == hash_short_code("ABCD-EFGH")


def test_confusable_letters_read_as_digits() -> None:
    assert normalise_short_code("io1l-0OAB") == "1011-00AB"


@pytest.mark.parametrize("typed", ["ABCD-EFG", "ABCD-EFGHJ", "ABCD-EFGU", "ABCD_EFGH", ""])
def test_malformed_short_codes_are_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="Crockford"):
        normalise_short_code(typed)


def test_the_short_code_hash_differs_from_a_plain_hash() -> None:
    code = new_enrolment_token().short_code
    assert hash_short_code(code) != hashlib.sha256(code.encode()).hexdigest()


def test_qr_png_is_a_private_png(tmp_path: Path) -> None:
    token = new_enrolment_token().token
    path = qr_png(f"https://cloud.example/enrol?token={token}", tmp_path / "enrol.png")
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with Image.open(path) as image:
        width, height = image.size
    assert width == height
    assert width >= 21 * 8
