"""ENC-2: ``mpm-cloud keys rotate`` re-wraps every data key under the new master key: resumable,
idempotent, on both backends, while a running cloud keeps reading sensitive fields; afterwards the
old master key is not needed, so a backup's wrapped data key dies with it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pydantic
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from cloud.app import create_app
from cloud.db.models import Member, OrgDataKey
from cloud.db.session import SessionFactory
from cloud.domain import keys
from cloud.domain.key_rotation import RotationProgress, rotate
from cloud.privacy import FieldCryptoError, MasterKey, OrgKey, unwrap_org_key, wrap_org_key, wrapped_by
from cloud.settings import CloudSettings
from tests.cloud import factories
from tests.cloud.test_api import auth

OLD = MasterKey.generate()
NEW = MasterKey.generate()
ROTATING = NEW.with_previous(OLD)
ORGS = 7


def test_a_rotating_key_unwraps_both_and_wraps_only_under_the_new_one() -> None:
    key = OrgKey.generate("5")
    under_old = wrap_org_key(OLD, key)
    assert unwrap_org_key(ROTATING, "5", under_old) == key
    assert wrapped_by(wrap_org_key(ROTATING, key)) == NEW.key_id
    with pytest.raises(FieldCryptoError, match="another master key"):
        unwrap_org_key(NEW, "5", under_old)  # control: without the previous key it is unreadable
    with pytest.raises(FieldCryptoError, match="another master key"):
        unwrap_org_key(MasterKey.generate().with_previous(NEW), "5", under_old)


async def seed(sessions: SessionFactory) -> dict[int, tuple[str, str]]:
    """ORGS organisations under the OLD key, one member with a phone each: {member: (org token, phone)}."""
    seeded = {}
    async with sessions() as session:
        for n in range(ORGS):
            t = await factories.tenant(session, f"Org {n}")
            phone = f"+86138001380{n:02d}"
            cipher = await keys.field_cipher(session, OLD, t.org_id)
            member = Member(org_id=t.org_id, display_name=f"M{n}", phone_enc=cipher.encrypt("phone", phone))
            session.add(member)
            await session.flush()
            seeded[member.id] = (t.token, phone)
        await session.commit()
    return seeded


async def key_ids(sessions: SessionFactory) -> list[bytes]:
    async with sessions() as session:
        return [wrapped_by(w) for w in (await session.scalars(select(OrgDataKey.wrapped))).all()]


class Interrupted(Exception):
    pass


async def test_rotation_is_resumable_and_idempotent(sessions: SessionFactory) -> None:
    await seed(sessions)

    def stop_after_first_batch(progress: RotationProgress) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        await rotate(sessions, ROTATING, batch_size=3, on_batch=stop_after_first_batch)
    assert sorted(await key_ids(sessions)).count(NEW.key_id) == 3  # the first batch was kept
    seen: list[int] = []
    resumed = await rotate(sessions, ROTATING, batch_size=3, on_batch=lambda p: seen.append(p.done))
    assert (resumed.rotated, resumed.already_current, resumed.failed) == (ORGS - 3, 3, {})
    assert seen == [6, 7]  # progress per batch: the 3 done before count from the start
    again = await rotate(sessions, ROTATING, batch_size=3)
    assert (again.rotated, again.already_current) == (0, ORGS)
    assert set(await key_ids(sessions)) == {NEW.key_id}


async def test_a_data_key_under_an_unknown_master_key_is_reported_and_left_alone(
    sessions: SessionFactory,
) -> None:
    await seed(sessions)
    stranger = MasterKey.generate()
    async with sessions() as session:
        row = (await session.scalars(select(OrgDataKey).order_by(OrgDataKey.org_id))).first()
        assert row is not None
        org_id = row.org_id
        row.wrapped = wrap_org_key(stranger, unwrap_org_key(OLD, str(org_id), row.wrapped))
        await session.commit()
    result = await rotate(sessions, ROTATING)
    assert list(result.failed) == [org_id]
    assert result.rotated == ORGS - 1
    async with sessions() as session:
        kept = await session.get_one(OrgDataKey, org_id)
        assert wrapped_by(kept.wrapped) == stranger.key_id


@pytest.fixture
async def rotating_app(db_url: str) -> AsyncIterator[FastAPI]:
    """A serving cloud configured for the rotation: new key current, old key previous."""
    settings = CloudSettings(
        database_url=db_url,
        mqtt_url=None,
        master_key=NEW.to_base64(),
        master_key_previous=OLD.to_base64(),
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def test_a_running_cloud_reads_every_field_throughout_the_rotation(rotating_app: FastAPI) -> None:
    sessions: SessionFactory = rotating_app.state.sessions
    seeded = await seed(sessions)
    mixed_rounds = 0
    transport = httpx.ASGITransport(app=rotating_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cloud.test") as client:

        async def read_all() -> None:
            for member_id, (token, phone) in seeded.items():
                response = await client.get(f"/api/v1/members/{member_id}/sensitive", headers=auth(token))
                assert response.status_code == 200, response.text
                assert response.json()["phone"] == phone

        # The rotation advances one committed batch (one data key) at a time, as a concurrent
        # reader sees it; after every step the cloud reads every organisation's phone.
        def one_batch_only(progress: RotationProgress) -> None:
            raise Interrupted

        for step in range(1, ORGS + 1):
            with pytest.raises(Interrupted):
                await rotate(sessions, rotating_app.state.master_key, batch_size=1, on_batch=one_batch_only)
            assert sorted(await key_ids(sessions)).count(NEW.key_id) == step
            mixed_rounds += len(set(await key_ids(sessions))) == 2
            await read_all()
        assert (await rotate(sessions, rotating_app.state.master_key)).already_current == ORGS
    assert mixed_rounds == ORGS - 1  # reads ran while some keys were old and some new
    # After the rotation the old key is not needed: a cloud with the new key alone reads everything,
    # and the old key alone (all a stolen pre-rotation backup's key would give) reads nothing now.
    async with sessions() as session:
        for member_id, (_token, phone) in seeded.items():
            member = await session.get_one(Member, member_id)
            assert member.phone_enc is not None
            cipher = await keys.field_cipher(session, NEW, member.org_id)
            assert cipher.decrypt("phone", member.phone_enc) == phone
            with pytest.raises(FieldCryptoError):
                await keys.field_cipher(session, OLD, member.org_id)


def test_cli_rotates_and_reports_json(tmp_path: pytest.TempPathFactory) -> None:
    db = f"{tmp_path}/cloud.db"
    environ = os.environ | {
        "MPM_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "MPM_MASTER_KEY": NEW.to_base64(),
        "MPM_MASTER_KEY_PREVIOUS": OLD.to_base64(),
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "cloud.cli", "--log-level", "WARNING", *args]
        return subprocess.run(command, env=environ, capture_output=True, text=True, timeout=60, check=False)

    for name in ("A", "B", "C"):
        created = cli("create-org", name, "--create")
        assert created.returncode == 0, created.stderr
    asyncio.run(_wrap_under_old(db, 3))
    first = cli("keys", "rotate", "--json", "--batch-size", "2")
    assert first.returncode == 0, first.stderr
    assert '"rotated": 3' in first.stdout
    assert '"already_current": 0' in first.stdout
    assert "keys rotate: 2/3 data keys" in first.stderr
    assert "keys rotate: 3/3 data keys" in first.stderr
    second = cli("keys", "rotate")
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("0 data key(s) re-wrapped, 3 already under master key")
    environ.pop("MPM_MASTER_KEY_PREVIOUS")
    environ["MPM_MASTER_KEY"] = MasterKey.generate().to_base64()  # a key that wrapped none of them
    stranded = cli("keys", "rotate", "--json")
    assert stranded.returncode == 1
    assert "Do not destroy the old key yet" in stranded.stderr
    assert cli("keys", "rotate", "--batch-size", "0").returncode == 2


async def _wrap_under_old(db: str, orgs: int) -> None:
    """Give organisations 1..orgs a data key under the OLD master key (as before the rotation)."""
    from cloud.db.session import create_engine, session_factory

    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    try:
        async with session_factory(engine)() as session:
            for org_id in range(1, orgs + 1):
                await keys.org_key(session, OLD, org_id)
            await session.commit()
    finally:
        await engine.dispose()


def test_a_bad_previous_key_is_refused_naming_the_setting() -> None:
    with pytest.raises(pydantic.ValidationError, match="master_key_previous"):
        CloudSettings(master_key=NEW.to_base64(), master_key_previous="not base64!")
    settings = CloudSettings(master_key=NEW.to_base64(), master_key_previous=OLD.to_base64())
    assert settings.master().key_id == NEW.key_id
    assert [k.key_id for k in settings.master().previous] == [OLD.key_id]
    same = CloudSettings(master_key=NEW.to_base64(), master_key_previous=NEW.to_base64())
    assert same.master().previous == ()  # the current key is not its own predecessor
