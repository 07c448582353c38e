"""``mpm-cloud``: serve | migrate | create-org | token issue | seed-demo | audit verify | retention run |
keys rotate | ca-init | broker-config | mqtt-identity."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import pydantic
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.base import utc_now
from cloud.db.migrate import upgrade_head
from cloud.db.models import Organisation, OrgKind, Role
from cloud.db.session import create_engine, session_factory
from cloud.deploy.anonymous_probe import open_broker_refusal
from cloud.deploy.broker_config import is_ip_address
from cloud.deploy.cli import DEPLOY_COMMANDS, add_deploy_commands, run_deploy_command
from cloud.domain import audit_log, retention
from cloud.domain.demo import seed_demo
from cloud.domain.orgs import create_org, issue_token, issue_token_record
from cloud.env_file import load_env_file
from cloud.keys import add_keys_commands, run_keys_command
from cloud.settings import CloudSettings
from cloud.startup_report import database_location, log_startup, sqlite_file
from firmware_protocols import sync

EX_CONFIG = 78  # sysexits: configuration error
log = logging.getLogger("cloud.cli")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.env_file is not None:
        try:
            load_env_file(args.env_file)
        except (OSError, ValueError) as exc:
            print(f"mpm-cloud: --env-file {args.env_file}: {exc}", file=sys.stderr)
            return EX_CONFIG
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = CloudSettings()
    except pydantic.ValidationError as exc:
        print(f"mpm-cloud: invalid settings:\n{_settings_problems(exc)}", file=sys.stderr)
        return EX_CONFIG
    if args.command == "ca-init":
        return _ca_init(settings, args)
    if args.command in DEPLOY_COMMANDS:
        return run_deploy_command(settings, args)
    # Every other command opens the database, so it runs with the service's environment: its key.
    refusal = settings.master_key_refusal()
    if refusal is not None:
        print(f"mpm-cloud: {refusal}", file=sys.stderr)
        return EX_CONFIG
    if args.command == "create-org" and not args.create and _missing_database(settings):
        return EX_CONFIG
    if args.command == "serve":
        refusal = open_broker_refusal(settings)
        if refusal is not None:
            print(f"mpm-cloud: {refusal}", file=sys.stderr)
            return EX_CONFIG
        return _serve(
            settings, args.host or settings.api_host, args.port or settings.api_port, args.access_log
        )
    try:
        return asyncio.run(_run_once(settings, args))
    except sync.SyncProtocolError as exc:
        print(f"mpm-cloud: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mpm-cloud", description="MPM Edge cloud service")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    parser.add_argument(
        "--env-file",
        type=Path,
        help="read MPM_* settings from this KEY=VALUE file first, as the service's EnvironmentFile= does",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate, then run the API, MQTT ingest and display publisher")
    serve.add_argument("--host", help="bind address (default MPM_API_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default MPM_API_PORT or 8000)")
    serve.add_argument(
        "--access-log", action="store_true", help="log every request (off by default: it costs about 19%%)"
    )
    commands.add_parser("migrate", help="bring the database to the newest schema")
    org = commands.add_parser("create-org", help="create an organisation; prints its first org-admin token")
    org.add_argument("name")
    org.add_argument("--kind", choices=[k.value for k in OrgKind], default=OrgKind.ENTERPRISE.value)
    org.add_argument(
        "--create", action="store_true", help="make a new SQLite database if none exists (refused otherwise)"
    )
    token = commands.add_parser("token", help="API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    issue = token_commands.add_parser(
        "issue", help="issue a token for an organisation (e.g. a new org-admin token when all expired)"
    )
    issue.add_argument("--org", type=int, required=True, help="organisation id")
    issue.add_argument("--role", choices=[r.value for r in Role], default=Role.ORG_ADMIN.value)
    issue.add_argument("--days", type=int, help="lifetime in days (default MPM_TOKEN_LIFETIME_DAYS, 90)")
    issue.add_argument("--label", default="mpm-cloud token issue")
    demo = commands.add_parser("seed-demo", help="create (idempotently) a demo tenant; prints an admin token")
    demo.add_argument("--agent", required=True, help="agent id (its MQTT username)")
    demo.add_argument("--sign", required=True, help="sign name as in the agent's device inventory")
    demo.add_argument("--json", action="store_true", help="print org id, agent, sign and token as JSON")
    audit = commands.add_parser("audit", help="audit log tools")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="check every organisation's audit chain; exit 1 if damaged"
    )
    verify.add_argument("--org", type=int, help="only this organisation id")
    retention = commands.add_parser("retention", help="retention (PRIVACY.md RET-1)")
    retention_commands = retention.add_subparsers(dest="retention_command", required=True)
    run = retention_commands.add_parser(
        "run", help="delete old punches and anonymise long-gone members in every organisation"
    )
    run.add_argument("--dry-run", action="store_true", help="report what would change; change nothing")
    run.add_argument("--json", action="store_true", help="print one JSON object per organisation")
    ca = commands.add_parser("ca-init", help="create the agent CA (ca.key, ca.crt) that enrolment signs with")
    ca.add_argument("--dir", type=Path, help="CA directory (default MPM_ENROLMENT_CA_DIR)")
    ca.add_argument(
        "--broker-host",
        action="append",
        default=[],
        metavar="NAME_OR_IP",
        help="also write broker.crt/broker.key for this broker name or IP (repeatable)",
    )
    add_keys_commands(commands)
    add_deploy_commands(commands)
    return parser


def _settings_problems(error: pydantic.ValidationError) -> str:
    """One indented line per invalid setting, named by its environment variable."""
    lines = []
    for problem in error.errors():
        where = "MPM_" + str(problem["loc"][0]).upper() if problem["loc"] else "settings"
        lines.append(f"  {where}: {problem['msg']}")
    return "\n".join(lines)


def _missing_database(settings: CloudSettings) -> bool:
    """True (after saying why) when create-org would silently make a new SQLite file."""
    path = sqlite_file(settings.database_url)
    if path is None or path.exists():
        return False
    print(
        f"mpm-cloud: no database at {path}: run create-org with the cloud's MPM_DATABASE_URL "
        "(a relative sqlite path is relative to the current folder), or pass --create to make a new one",
        file=sys.stderr,
    )
    return True


def _ca_init(settings: CloudSettings, args: argparse.Namespace) -> int:
    """Create the CA in ``--dir`` (encrypted with MPM_ENROLMENT_CA_PASSPHRASE when set); never overwrite."""
    from cloud.pki import CA_CERT_FILE, CertificateAuthority, PkiError

    directory: Path | None = args.dir or settings.enrolment_ca_dir
    if directory is None:
        print("mpm-cloud: ca-init needs --dir or MPM_ENROLMENT_CA_DIR", file=sys.stderr)
        return EX_CONFIG
    secret = settings.enrolment_ca_passphrase
    try:
        ca = CertificateAuthority.create(
            directory, passphrase=secret.get_secret_value().encode() if secret else None
        )
    except PkiError as exc:
        print(f"mpm-cloud: {exc}", file=sys.stderr)
        return 1
    print(directory / CA_CERT_FILE)
    if args.broker_host:
        ips = [host for host in args.broker_host if is_ip_address(host)]
        names = [host for host in args.broker_host if not is_ip_address(host)]
        cert, _key = ca.issue_server_cert(names, ips).write(directory, "broker")
        print(cert)
    return 0


async def _verify_audit(session: AsyncSession, only: int | None) -> int:
    """Print each organisation's audit verdict; 1 if any chain is damaged."""
    query = select(Organisation.id).order_by(Organisation.id)
    if only is not None:
        query = query.where(Organisation.id == only)
    damaged = 0
    for org_id in (await session.execute(query)).scalars():
        problems = await audit_log.verify(session, org_id)
        print(f"organisation {org_id}: {'intact' if not problems else f'{len(problems)} problem(s)'}")
        for found in problems:
            print(f"  #{found.seq} {found.kind.value}: {found.detail}")
        damaged += bool(problems)
    return 1 if damaged else 0


async def _run_retention(session: AsyncSession, *, dry_run: bool, as_json: bool) -> int:
    """Apply retention everywhere (or, with ``dry_run``, only count) and print the counts."""
    reports = await retention.apply_everywhere(session, utc_now())
    await (session.rollback() if dry_run else session.commit())
    for report in reports:
        body = retention.as_json(report) | {"dry_run": dry_run}
        line = (
            f"organisation {report.org_id}: {report.punches_deleted} punch(es) deleted, "
            f"{report.members_anonymised} member(s) anonymised{' (dry run)' if dry_run else ''}"
        )
        print(json.dumps(body) if as_json else line)
    return 0


async def _issue_token(session: AsyncSession, settings: CloudSettings, args: argparse.Namespace) -> int:
    """Print a new token for ``--org`` (audited as the system); 1 when the organisation does not exist."""
    if await session.get(Organisation, args.org) is None:
        print(f"mpm-cloud: organisation {args.org} does not exist", file=sys.stderr)
        return 1
    days = args.days if args.days is not None else settings.token_lifetime_days
    if not 1 <= days <= 3650:
        print("mpm-cloud: --days must be 1 … 3650", file=sys.stderr)
        return 2
    secret, record = await issue_token_record(
        session, args.org, Role(args.role), label=args.label, lifetime=dt.timedelta(days=days)
    )
    detail = {"role": args.role, "expires_at": record.expires_at.isoformat(), "via": "cli"}
    await audit_log.record(
        session, args.org, audit_log.SYSTEM, "token.issue", f"api_token:{record.id}", detail
    )
    await session.commit()
    print(secret)
    print(
        f"mpm-cloud: {args.role} token {record.id} expires {record.expires_at:%Y-%m-%d %H:%M} UTC",
        file=sys.stderr,
    )
    return 0


def _serve(settings: CloudSettings, host: str, port: int, access_log: bool = False) -> int:
    import uvicorn  # imported here: the other commands do not need the web server

    from cloud.app import create_app

    # uvicorn handles SIGINT/SIGTERM: the lifespan then stops the ingest worker and the publisher.
    # Afterwards uvicorn re-raises the signal to the handler it found; a no-op one there turns a
    # graceful stop into exit status 0.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _after_graceful_stop)
    # loop/http "auto": uvloop and httptools when installed (the cloud extra brings them), else
    # asyncio and h11.
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        loop="auto",
        http="auto",
        access_log=access_log,
        log_config=None,
    )
    return 0


def _after_graceful_stop(signum: int, frame: FrameType | None) -> None:
    """Nothing left to do: uvicorn has already shut down cleanly."""


async def _run_once(settings: CloudSettings, args: argparse.Namespace) -> int:
    log_startup(settings, os.environ, log)
    engine = create_engine(settings.database_url)
    try:
        await upgrade_head(engine)
        if args.command == "keys":
            return await run_keys_command(settings, session_factory(engine), args)
        async with session_factory(engine)() as session:
            if args.command == "audit":
                return await _verify_audit(session, args.org)
            if args.command == "retention":
                return await _run_retention(session, dry_run=args.dry_run, as_json=args.json)
            if args.command == "token":
                return await _issue_token(session, settings, args)
            if args.command == "create-org":
                org = await create_org(session, args.name, OrgKind(args.kind))
                lifetime = dt.timedelta(days=settings.token_lifetime_days)
                token = await issue_token(
                    session, org.id, Role.ORG_ADMIN, label="create-org", lifetime=lifetime
                )
                detail = {"name": args.name, "kind": args.kind, "first_token": "org_admin"}
                await audit_log.record(
                    session, org.id, audit_log.SYSTEM, "org.create", f"organisation:{org.id}", detail
                )
                print(token)
                where = database_location(settings.database_url)
                print(f"mpm-cloud: organisation {org.id} created in {where}", file=sys.stderr)
            elif args.command == "seed-demo":
                sync.validate_agent_id(args.agent)
                seed = await seed_demo(session, args.agent, args.sign)
                body = {
                    "org_id": seed.org_id,
                    "agent_id": seed.agent_id,
                    "sign": seed.sign,
                    "token": seed.token,
                }
                print(json.dumps(body) if args.json else seed.token)
            await session.commit()
    finally:
        await engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
