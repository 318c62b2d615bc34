"""e-Gatepass delivery to custodians (OOC-GP-1), learning from HMRC's customs-notification
service: push to a callback the custodian registered and proved it controls (a challenge
echoed back), bodies signed with HMAC-SHA256 under the custodian's own secret and carrying
an idempotency id; retries with exponential backoff by the runtime's delivery worker
(deliveries to one custodian go in order, the oldest first); a custodian whose callback
keeps failing is marked blocked, its oldest e-Gatepass is the one pilot tried, and when it
succeeds the custodian is unblocked and its backlog flows again, in order. Every attempt is
kept (`delivery_attempt`). The mailbox lets a custodian pull what it has not received and
acknowledge it; a pulled e-Gatepass is not pushed again.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime
from typing import Any

import httpx
import orjson
from clearance_runtime.clock import Clock
from clearance_runtime.deliveries import Delivery, DeliveryResult, Sender
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-clearance-signature"
TIMESTAMP_HEADER = "x-clearance-timestamp"
IDEMPOTENCY_HEADER = "idempotency-key"

_ENDPOINT = text(
    "SELECT e.url, e.secret, e.state, n.acknowledged_at FROM custodian_endpoint e "
    "LEFT JOIN custodian_notification n ON n.gatepass_no = :gatepass_no "
    "WHERE e.custodian_code = :code"
)
_DELIVERED = text(
    "UPDATE custodian_notification SET acknowledged_at = :at, acknowledged_by = 'push' "
    "WHERE gatepass_no = :gatepass_no AND acknowledged_at IS NULL"
)
_SUCCEEDED = text(
    "UPDATE custodian_endpoint SET consecutive_failures = 0, state = 'active', "
    "unblocked_at = CASE WHEN state = 'blocked' THEN :at ELSE unblocked_at END "
    "WHERE custodian_code = :code"
)
_FAILED = text(
    "UPDATE custodian_endpoint SET consecutive_failures = consecutive_failures + 1, "
    "state = CASE WHEN consecutive_failures + 1 >= :block_after THEN 'blocked' ELSE state END, "
    "blocked_at = CASE WHEN state = 'active' AND consecutive_failures + 1 >= :block_after "
    "THEN :at ELSE blocked_at END WHERE custodian_code = :code"
)
_REGISTER = text(
    "INSERT INTO custodian_endpoint (custodian_code, url, secret, state, verified_at) "
    "VALUES (:code, :url, :secret, 'active', :at) ON CONFLICT (custodian_code) DO UPDATE SET "
    "url = EXCLUDED.url, secret = EXCLUDED.secret, state = 'active', consecutive_failures = 0, "
    "verified_at = EXCLUDED.verified_at"
)
_PULL = text(
    "SELECT gatepass_no, payload, created_at FROM custodian_notification "
    "WHERE custodian_code = :code AND acknowledged_at IS NULL ORDER BY id LIMIT :limit"
)
_ACKNOWLEDGE = text(
    "UPDATE custodian_notification SET acknowledged_at = :at, acknowledged_by = 'pull' "
    "WHERE custodian_code = :code AND gatepass_no = :gatepass_no AND acknowledged_at IS NULL "
    "RETURNING gatepass_no"
)
_KNOWN = text(
    "SELECT acknowledged_at, acknowledged_by FROM custodian_notification "
    "WHERE custodian_code = :code AND gatepass_no = :gatepass_no"
)
_STATUS = text(
    "SELECT url, state, consecutive_failures, verified_at, blocked_at, unblocked_at "
    "FROM custodian_endpoint WHERE custodian_code = :code"
)
_ATTEMPTS = text(
    "SELECT d.delivery_id, d.state, d.attempts, d.next_attempt_at, d.delivered_at, "
    "COALESCE(json_agg(json_build_object('attempt', a.attempt, 'at', a.at, 'outcome', a.outcome, "
    "'status_code', a.status_code, 'error', a.error) ORDER BY a.attempt) "
    "FILTER (WHERE a.id IS NOT NULL), '[]') AS tries FROM delivery d "
    "LEFT JOIN delivery_attempt a USING (delivery_id) WHERE d.destination = :destination "
    "GROUP BY d.id ORDER BY d.id DESC LIMIT :limit"
)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=<hex HMAC-SHA256 of "<timestamp>." + body under the custodian's secret>`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def custodian_sender(
    engine: AsyncEngine, client: httpx.AsyncClient, clock: Clock, block_after: int
) -> Sender:
    """Push one e-Gatepass to its custodian's callback; keep the custodian's health."""

    async def send(delivery: Delivery) -> DeliveryResult:
        code = delivery.destination.removeprefix("custodian:")
        gatepass_no = delivery.delivery_id
        async with engine.connect() as conn:
            row = (
                await conn.execute(_ENDPOINT, {"code": code, "gatepass_no": gatepass_no})
            ).first()
        if row is None:
            return DeliveryResult(False, error=f"{code} has no callback registered", retry=False)
        if row.acknowledged_at is not None:
            return DeliveryResult(True, error="already acknowledged (pulled)")
        body = orjson.dumps(dict(delivery.payload))
        timestamp = str(int(clock.now().timestamp()))
        headers = {
            "content-type": "application/json",
            IDEMPOTENCY_HEADER: gatepass_no,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(row.secret, timestamp, body),
            "x-clearance-custodian": code,
        }
        try:
            response = await client.post(row.url, content=body, headers=headers)
            ok = 200 <= response.status_code < 300
            result = DeliveryResult(ok, response.status_code, None if ok else response.text[:500])
        except httpx.HTTPError as error:
            result = DeliveryResult(False, error=f"{type(error).__name__}: {error}")
        await _record(engine, code, gatepass_no, result, clock.now(), block_after)
        return result

    return send


async def _record(
    engine: AsyncEngine,
    code: str,
    gatepass_no: str,
    result: DeliveryResult,
    at: datetime,
    block_after: int,
) -> None:
    async with engine.begin() as conn:
        if result.delivered:
            await conn.execute(_DELIVERED, {"gatepass_no": gatepass_no, "at": at})
            await conn.execute(_SUCCEEDED, {"code": code, "at": at})
        else:
            await conn.execute(_FAILED, {"code": code, "at": at, "block_after": block_after})


class ChallengeFailed(Exception):
    """The callback did not echo the challenge: it is not registered."""


async def register_callback(
    engine: AsyncEngine,
    client: httpx.AsyncClient,
    code: str,
    url: str,
    at: datetime,
    timeout_s: float,
) -> str:
    """Verify the custodian controls `url` (it must echo a random challenge), then register
    it with a fresh secret, returned once; re-registering replaces URL and secret."""
    challenge = secrets.token_urlsafe(24)
    try:
        response = await client.post(
            url,
            json={"type": "challenge", "custodian_code": code, "challenge": challenge},
            headers={"x-clearance-custodian": code},
            timeout=timeout_s,
        )
        echoed = response.json().get("challenge") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError) as error:
        raise ChallengeFailed(f"the callback did not answer the challenge: {error}") from None
    if not isinstance(echoed, str) or not hmac.compare_digest(echoed, challenge):
        raise ChallengeFailed("the callback did not echo the challenge")
    secret = secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        await conn.execute(_REGISTER, {"code": code, "url": url, "secret": secret, "at": at})
    return secret


async def pull(engine: AsyncEngine, code: str, limit: int) -> list[dict[str, Any]]:
    """The custodian's e-Gatepasses not yet received (pushed or acknowledged), oldest first."""
    async with engine.connect() as conn:
        rows = (await conn.execute(_PULL, {"code": code, "limit": limit})).all()
    return [
        {"gatepass_no": r.gatepass_no, "gatepass": r.payload, "filed_at": r.created_at.isoformat()}
        for r in rows
    ]


async def acknowledge(engine: AsyncEngine, code: str, gatepass_no: str, at: datetime) -> str | None:
    """Mark one e-Gatepass received: 'acknowledged', 'already acknowledged', or None if the
    custodian has no such gate pass."""
    async with engine.begin() as conn:
        done = (
            await conn.execute(_ACKNOWLEDGE, {"code": code, "gatepass_no": gatepass_no, "at": at})
        ).first()
        if done is not None:
            return "acknowledged"
        known = (await conn.execute(_KNOWN, {"code": code, "gatepass_no": gatepass_no})).first()
    return None if known is None else f"already acknowledged by {known.acknowledged_by}"


async def delivery_status(engine: AsyncEngine, code: str, limit: int = 20) -> dict[str, Any]:
    """The custodian's callback, its health, and its latest deliveries with every attempt."""
    async with engine.connect() as conn:
        endpoint = (await conn.execute(_STATUS, {"code": code})).first()
        deliveries = (
            await conn.execute(_ATTEMPTS, {"destination": f"custodian:{code}", "limit": limit})
        ).all()
    return {
        "custodian_code": code,
        "callback": None
        if endpoint is None
        else {
            "url": endpoint.url,
            "state": endpoint.state,
            "consecutive_failures": endpoint.consecutive_failures,
            "verified_at": endpoint.verified_at.isoformat(),
            "blocked_at": endpoint.blocked_at.isoformat() if endpoint.blocked_at else None,
            "unblocked_at": endpoint.unblocked_at.isoformat() if endpoint.unblocked_at else None,
        },
        "deliveries": [
            {
                "gatepass_no": d.delivery_id,
                "state": d.state,
                "attempts": d.attempts,
                "next_attempt_at": d.next_attempt_at.isoformat(),
                "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
                "tries": d.tries if isinstance(d.tries, list) else orjson.loads(d.tries),
            }
            for d in deliveries
        ],
    }
