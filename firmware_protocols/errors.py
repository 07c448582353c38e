"""Errors and sentinels shared by every codec.

Errors are split by who is at fault (after h11): ``RemoteProtocolError`` when the peer sent bytes we
cannot accept, ``LocalProtocolError`` when our own caller asked us to encode something invalid.
Each protocol subclasses them so a driver can catch one family at one place.
"""

from __future__ import annotations

import enum
from typing import Final


class ProtocolError(Exception):
    """Base of every codec error."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something that violates the protocol."""


class LocalProtocolError(ProtocolError):
    """Our own caller asked to encode something the protocol cannot carry."""


class NeedData(enum.Enum):
    """Returned by ``Decoder.next_message()`` when the buffer holds no complete frame yet."""

    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = NeedData.NEED_DATA
