"""Signed webhook delivery with bounded retries; one failing endpoint never holds up another.

Signature: ``X-MPM-Signature: sha256=<hex>``, the HMAC-SHA256 under the organisation's secret of
``<X-MPM-Timestamp>.<body>`` (the timestamp is Unix seconds): a receiver recomputes it, compares in
constant time and refuses a timestamp too far from its clock, so a captured request cannot be
replayed later. ``X-MPM-Delivery`` identifies the delivery (a retry repeats it: receivers dedupe).

Rules:
- each endpoint gets its deliveries in order: only its oldest pending one is tried, so a "resolved"
  never overtakes its "raised";
- endpoints are tried concurrently, each attempt bounded by ``ATTEMPT_TIMEOUT_S``;
- a failed attempt (transport error, timeout, non-2xx) is retried after 30 s × 2^(attempts − 1),
  capped at an hour; after ``MAX_ATTEMPTS`` the delivery is given up (``done``, with its last error).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cloud.db.models import AlertRules, AlertWebhook, WebhookDelivery

SIGNATURE_HEADER: Final = "X-MPM-Signature"
TIMESTAMP_HEADER: Final = "X-MPM-Timestamp"
DELIVERY_HEADER: Final = "X-MPM-Delivery"
EVENT_HEADER: Final = "X-MPM-Event"
ATTEMPT_TIMEOUT_S: Final = 5.0
MAX_ATTEMPTS: Final = 8
FIRST_RETRY_S: Final = 30.0
MAX_RETRY_S: Final = 3600.0
PENDING_SCAN: Final = 1000  # pending deliveries looked at per round (the oldest first)
MAX_ERROR_CHARS: Final = 300

CLAIM_MARGIN_S: Final = 30.0  # a claimed delivery whose worker died is tried again after this

# POST ``body`` with ``headers`` to ``url``; the HTTP status, or an exception when none came back.
Post = Callable[[str, bytes, Mapping[str, str]], Awaitable[int]]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-MPM-Signature`` value of ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, now: dt.datetime, tolerance_s: int = 300
) -> bool:
    """What a receiver does: the signature matches and the timestamp is within ``tolerance_s`` of now."""
    try:
        timestamp = int(headers[TIMESTAMP_HEADER])
    except (KeyError, ValueError):
        return False
    if abs(now.timestamp() - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), headers.get(SIGNATURE_HEADER, ""))


def retry_delay_s(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones."""
    return min(MAX_RETRY_S, FIRST_RETRY_S * 2.0 ** max(0, attempts - 1))


async def httpx_post(url: str, body: bytes, headers: Mapping[str, str]) -> int:
    """The production ``Post``: no redirects followed (a webhook URL is where it says)."""
    async with httpx.AsyncClient(timeout=ATTEMPT_TIMEOUT_S, follow_redirects=False) as client:
        response = await client.post(url, content=body, headers=dict(headers))
        return response.status_code


_Pending = tuple[WebhookDelivery, str, str]  # the delivery, its URL, the organisation's secret


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DeliveryRound:
    delivered: int
    failed: int
    given_up: int


async def deliver_due(
    session: AsyncSession, post: Post, now: dt.datetime, *, attempt_timeout_s: float = ATTEMPT_TIMEOUT_S
) -> DeliveryRound:
    """Try each endpoint's oldest pending delivery if it is due (claimed and committed first, so two
    cloud workers never send one twice); the caller commits the outcomes."""
    query = (
        select(WebhookDelivery, AlertWebhook.url, AlertRules.secret)
        .join(AlertWebhook, AlertWebhook.id == WebhookDelivery.webhook_id)
        .join(AlertRules, AlertRules.org_id == WebhookDelivery.org_id)
        .where(WebhookDelivery.done.is_(False))
        .order_by(WebhookDelivery.id)
        .limit(PENDING_SCAN)
    )
    oldest: dict[int, _Pending] = {}
    for delivery, url, secret in await session.execute(query):
        oldest.setdefault(delivery.webhook_id, (delivery, url, secret))
    due = [entry for entry in oldest.values() if entry[0].next_attempt_at <= now]
    due = await _claim(session, due, now, attempt_timeout_s)
    errors = await asyncio.gather(
        *(_attempt(post, d, url, secret, now, attempt_timeout_s) for d, url, secret in due)
    )
    for (delivery, _, _), error in zip(due, errors, strict=True):
        _record(delivery, error, now)
    await session.flush()
    failed = [d for (d, _, _), e in zip(due, errors, strict=True) if e is not None]
    return DeliveryRound(
        delivered=len(due) - len(failed),
        failed=len(failed),
        given_up=sum(1 for d in failed if d.done),
    )


async def _claim(
    session: AsyncSession, due: list[_Pending], now: dt.datetime, attempt_timeout_s: float
) -> list[_Pending]:
    """The deliveries this worker won: one UPDATE moves their next try past this attempt, and only
    the rows it changed are sent (another cloud worker's round changes none of them twice)."""
    if not due:
        return []
    lease = now + dt.timedelta(seconds=attempt_timeout_s + CLAIM_MARGIN_S)
    claimed = await session.scalars(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id.in_([d.id for d, _, _ in due]),
            WebhookDelivery.done.is_(False),
            WebhookDelivery.next_attempt_at <= now,
        )
        .values(next_attempt_at=lease)
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    )
    won = set(claimed)
    await session.commit()
    return [entry for entry in due if entry[0].id in won]


async def _attempt(
    post: Post, delivery: WebhookDelivery, url: str, secret: str, now: dt.datetime, timeout_s: float
) -> str | None:
    """None when delivered, else why not."""
    body = delivery.body.encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        DELIVERY_HEADER: str(delivery.id),
        EVENT_HEADER: delivery.event,
    }
    try:
        async with asyncio.timeout(timeout_s):
            status = await post(url, body, headers)
    except (TimeoutError, OSError, httpx.HTTPError) as error:
        return f"{type(error).__name__}: {error}"
    return None if 200 <= status < 300 else f"HTTP {status}"


def _record(delivery: WebhookDelivery, error: str | None, now: dt.datetime) -> None:
    delivery.attempts += 1
    if error is None:
        delivery.done, delivery.delivered_at, delivery.last_error = True, now, None
        return
    delivery.last_error = error[:MAX_ERROR_CHARS]
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.done = True
    else:
        delivery.next_attempt_at = now + dt.timedelta(seconds=retry_delay_s(delivery.attempts))
