"""An asyncio ISAPI client: httpx with Digest auth, our codec for every body; errors translated once.

Every failure leaves here as ``DeviceError`` (``DeviceAuthError`` for a refused password, which the
driver must not retry quickly: devices lock accounts after repeated failures).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Self, TypeVar

import httpx

from edge_agent.drivers.isapi.config import IsapiFaceConfig
from firmware_protocols.isapi import acs_event, alert_stream, device_info, settings, user_info
from firmware_protocols.isapi.errors import IsapiProtocolError
from firmware_protocols.isapi.messages import (
    AcsEventCond,
    AcsEventPage,
    DeviceInfo,
    PictureUploadSettings,
    UserInfo,
    UserSearchCond,
    UserSearchPage,
)

T = TypeVar("T")
PICTURES_OFF = PictureUploadSettings(upload_capture_picture=False, upload_verification_picture=False)


class DeviceError(Exception):
    """The terminal could not be reached or answered something unusable."""


class DeviceAuthError(DeviceError):
    """The terminal refused our credentials."""


class IsapiClient:
    """``async with IsapiClient(config) as client``: one HTTP connection pool for one terminal."""

    def __init__(self, config: IsapiFaceConfig) -> None:
        self._config = config
        auth = httpx.DigestAuth(config.username, config.password.get_secret_value())
        self._http = httpx.AsyncClient(base_url=config.base_url, auth=auth, timeout=config.timeout_s)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self._http.aclose()

    async def device_info(self) -> DeviceInfo:
        """``GET deviceInfo`` (the serial keys deduplication)."""
        return await self._call("GET", device_info.PATH, None, device_info.decode_device_info)

    async def turn_pictures_off(self) -> None:
        """BIO-2: ask the terminal not to attach pictures to events."""
        body = settings.encode_picture_upload(PICTURES_OFF)
        status = await self._call("PUT", settings.ACS_CFG_PATH, body, settings.decode_status)
        if not status.ok:
            raise DeviceError(f"picture upload switch refused: {status.status_string}")

    async def search_events(self, cond: AcsEventCond) -> AcsEventPage:
        """One AcsEvent page."""
        return await self._call("POST", acs_event.PATH, acs_event.encode_cond(cond), acs_event.decode_page)

    async def add_user(self, user: UserInfo) -> None:
        """``UserInfo/Record`` for one person."""
        body = user_info.encode_record(user)
        status = await self._call("POST", user_info.RECORD_PATH, body, settings.decode_status)
        if not status.ok:
            raise DeviceError(f"user record refused: {status.status_string}")

    async def delete_users(self, employee_nos: tuple[str, ...]) -> None:
        """``UserInfo/Delete`` for the given people."""
        body = user_info.encode_delete(employee_nos)
        status = await self._call("PUT", user_info.DELETE_PATH, body, settings.decode_status)
        if not status.ok:
            raise DeviceError(f"user delete refused: {status.status_string}")

    async def search_users(self, cond: UserSearchCond) -> UserSearchPage:
        """One ``UserInfo/Search`` page."""
        body = user_info.encode_search(cond)
        return await self._call("POST", user_info.SEARCH_PATH, body, user_info.decode_search_page)

    @asynccontextmanager
    async def alert_stream(self, idle_timeout_s: float) -> AsyncIterator[tuple[str, AsyncIterator[bytes]]]:
        """The open alertStream: its Content-Type and its raw body chunks."""
        timeout = httpx.Timeout(self._config.timeout_s, read=idle_timeout_s)
        try:
            async with self._http.stream("GET", alert_stream.PATH, timeout=timeout) as reply:
                _check(reply)
                yield reply.headers.get("content-type", ""), _chunks(reply)
        except httpx.HTTPError as exc:
            raise DeviceError(f"alertStream: {exc.__class__.__name__}: {exc}") from None

    async def _call(self, method: str, path: str, body: bytes | None, decode: Callable[[bytes], T]) -> T:
        try:
            reply = await self._http.request(method, path, content=body)
        except httpx.HTTPError as exc:
            raise DeviceError(f"{method} {path.split('?')[0]}: {exc.__class__.__name__}: {exc}") from None
        _check(reply)
        try:
            return decode(reply.content)
        except IsapiProtocolError as exc:
            raise DeviceError(f"{method} {path.split('?')[0]}: {exc}") from None


def _check(reply: httpx.Response) -> None:
    if reply.status_code == httpx.codes.UNAUTHORIZED:
        raise DeviceAuthError("authentication refused (check username and password)")
    if reply.status_code >= 300:
        raise DeviceError(f"{reply.request.method} {reply.request.url.path}: HTTP {reply.status_code}")


async def _chunks(reply: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in reply.aiter_raw():
            yield chunk
    except httpx.HTTPError as exc:
        raise DeviceError(f"alertStream: {exc.__class__.__name__}") from None
