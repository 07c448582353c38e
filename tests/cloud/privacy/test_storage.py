"""ENC-1 and ENC-2 on a real SQLite database: no plaintext in a raw dump, lookup by HMAC, shredding."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

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

SCHEMA = """
CREATE TABLE org_keys (org_id TEXT PRIMARY KEY, wrapped BLOB NOT NULL);
CREATE TABLE members (
    id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, display_name TEXT NOT NULL,
    phone BLOB, phone_lookup BLOB, id_number BLOB, birth_date BLOB, guardian_contact BLOB
);
"""
MEMBERS = {
    "org-a": ("张三", "13800138000", "110101200501011234", "2005-01-01", "李四 13900139000"),
    "org-b": ("王五", "13700137000", "310101199912315678", "1999-12-31", "赵六 13600136000"),
}
SENSITIVE = ("phone", "id_number", "birth_date", "guardian_contact")


@pytest.fixture
def master() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture
def database(tmp_path: Path, master: MasterKey) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(tmp_path / "cloud.db")) as db:
        db.executescript(SCHEMA)
        for org_id, (name, *values) in MEMBERS.items():
            key = OrgKey.generate(org_id)
            db.execute("INSERT INTO org_keys VALUES (?, ?)", (org_id, wrap_org_key(master, key)))
            cipher = FieldCipher(key)
            sealed = [cipher.encrypt(field, value) for field, value in zip(SENSITIVE, values, strict=True)]
            lookup = hmac_lookup(key, normalise_phone(values[0]))
            db.execute(
                "INSERT INTO members (org_id, display_name, phone, phone_lookup, id_number, birth_date,"
                " guardian_contact) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (org_id, name, sealed[0], lookup, *sealed[1:]),
            )
        db.commit()
        yield db


def raw_dump(db: sqlite3.Connection, path: Path) -> bytes:
    """Everything an attacker with the database (file and SQL dump) sees."""
    db.execute("PRAGMA wal_checkpoint(FULL)")
    return path.read_bytes() + "\n".join(db.iterdump()).encode()


def org_key(db: sqlite3.Connection, master: MasterKey, org_id: str) -> OrgKey:
    row = db.execute("SELECT wrapped FROM org_keys WHERE org_id = ?", (org_id,)).fetchone()
    if row is None:
        raise LookupError(f"no key for {org_id}")
    return unwrap_org_key(master, org_id, row[0])


def read_phone(db: sqlite3.Connection, master: MasterKey, org_id: str) -> str:
    (blob,) = db.execute("SELECT phone FROM members WHERE org_id = ?", (org_id,)).fetchone()
    return FieldCipher(org_key(db, master, org_id)).decrypt("phone", blob)


def test_a_raw_dump_shows_no_sensitive_plaintext(database: sqlite3.Connection, tmp_path: Path) -> None:
    dump = raw_dump(database, tmp_path / "cloud.db")
    for name, *values in MEMBERS.values():
        assert name.encode() in dump  # control: a plaintext column is visible in this dump
        for value in values:
            for encoded in (value.encode(), value.encode("utf-16-le"), value.encode().hex().encode()):
                assert encoded not in dump
        assert values[0][-8:].encode() not in dump  # not even the tail of the phone number


def test_members_are_found_by_phone_through_the_lookup_column(
    database: sqlite3.Connection, master: MasterKey
) -> None:
    key = org_key(database, master, "org-a")
    typed = normalise_phone("+86 138 0013 8000")
    rows = database.execute(
        "SELECT display_name FROM members WHERE org_id = ? AND phone_lookup = ?",
        ("org-a", hmac_lookup(key, typed)),
    ).fetchall()
    assert rows == [("张三",)]
    assert read_phone(database, master, "org-a") == "13800138000"


def test_shredding_an_organisation_key_makes_its_fields_unreadable(
    database: sqlite3.Connection, master: MasterKey
) -> None:
    assert read_phone(database, master, "org-a") == "13800138000"  # control

    database.execute("DELETE FROM org_keys WHERE org_id = ?", ("org-a",))
    database.commit()
    with pytest.raises(LookupError):
        read_phone(database, master, "org-a")
    (blob,) = database.execute("SELECT phone FROM members WHERE org_id = 'org-a'").fetchone()
    with pytest.raises(FieldCryptoError):  # a fresh key for the same org cannot read the old data
        FieldCipher(OrgKey.generate("org-a")).decrypt("phone", blob)
    assert read_phone(database, master, "org-b") == "13700137000"  # other organisations unaffected


def test_old_backups_are_shredded_by_rotating_the_master_key(
    database: sqlite3.Connection, master: MasterKey, tmp_path: Path
) -> None:
    database.execute("PRAGMA wal_checkpoint(FULL)")
    shutil.copyfile(tmp_path / "cloud.db", tmp_path / "backup.db")
    database.execute("DELETE FROM org_keys WHERE org_id = 'org-a'")
    new_master = MasterKey.generate()
    for org_id, wrapped in database.execute("SELECT org_id, wrapped FROM org_keys").fetchall():
        database.execute(
            "UPDATE org_keys SET wrapped = ? WHERE org_id = ?",
            (rewrap_org_key(master, new_master, org_id, wrapped), org_id),
        )
    database.commit()

    with closing(sqlite3.connect(tmp_path / "backup.db")) as backup:
        assert read_phone(backup, master, "org-a") == "13800138000"  # control: the old master still reads it
        with pytest.raises(FieldCryptoError, match="another master key"):
            read_phone(
                backup, new_master, "org-a"
            )  # once the old master is destroyed, this is all that's left
    assert read_phone(database, new_master, "org-b") == "13700137000"
