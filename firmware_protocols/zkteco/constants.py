"""ZKTeco 4370 protocol facts as tables: command and reply codes, event flags, buffered-read codes.

Values are those pyzk 0.9 (``zk/const.py``) and the firmware use; see shared/PROTOCOLS.md §2.
"""

from __future__ import annotations

import enum
from typing import Final


class Command(enum.IntEnum):
    """Command codes (client → device) and reply codes (device → client) share one 16-bit space."""

    DB_RRQ = 7
    USER_WRQ = 8  # set user
    USERTEMP_RRQ = 9  # read users (buffered, fct = FCT_USER)
    OPTIONS_RRQ = 11
    OPTIONS_WRQ = 12
    ATTLOG_RRQ = 13  # read attendance log (buffered)
    CLEAR_DATA = 14
    CLEAR_ATTLOG = 15
    DELETE_USER = 18
    DELETE_USERTEMP = 19
    GET_FREE_SIZES = 50
    ENABLE_CLOCK = 57
    STARTVERIFY = 60
    STARTENROLL = 61
    CANCELCAPTURE = 62
    GET_PINWIDTH = 69
    GET_TIME = 201
    SET_TIME = 202
    REG_EVENT = 500
    CONNECT = 1000
    EXIT = 1001
    ENABLEDEVICE = 1002
    DISABLEDEVICE = 1003
    RESTART = 1004
    POWEROFF = 1005
    REFRESHDATA = 1013
    REFRESHOPTION = 1014
    GET_VERSION = 1100
    AUTH = 1102
    PREPARE_DATA = 1500
    DATA = 1501
    FREE_DATA = 1502
    DATA_WRRQ = 1503  # prepare a buffered read
    DATA_RDY = 1504  # read one chunk of the prepared buffer
    ACK_OK = 2000
    ACK_ERROR = 2001
    ACK_DATA = 2002
    ACK_RETRY = 2003
    ACK_REPEAT = 2004
    ACK_UNAUTH = 2005
    ACK_ERROR_DATA = 0xFFFB
    ACK_ERROR_INIT = 0xFFFC
    ACK_ERROR_CMD = 0xFFFD
    ACK_UNKNOWN = 0xFFFF


class EventFlag(enum.IntFlag):
    """Realtime event codes: the mask of CMD_REG_EVENT and the session field of a realtime packet."""

    ATTLOG = 1
    FINGER = 1 << 1
    ENROLLUSER = 1 << 2
    ENROLLFINGER = 1 << 3
    BUTTON = 1 << 4
    UNLOCK = 1 << 5
    VERIFY = 1 << 7
    FPFTR = 1 << 8
    ALARM = 1 << 9


class Privilege(enum.IntEnum):
    USER = 0
    ENROLLER = 2
    MANAGER = 6
    ADMIN = 14


# Function codes of the buffered read (CMD_DATA_WRRQ ``fct``).
FCT_ATTLOG: Final = 1
FCT_FINGERTMP: Final = 2
FCT_OPLOG: Final = 4
FCT_USER: Final = 5

# Replies that mean "the command succeeded" to pyzk (it also counts PREPARE_DATA and DATA as success).
SUCCESS_REPLIES: Final = frozenset({Command.ACK_OK, Command.PREPARE_DATA, Command.DATA})

# Chunk limits of the buffered read: per CMD_DATA_RDY request, and per UDP datagram of CMD_DATA.
TCP_MAX_CHUNK: Final = 0xFFC0
UDP_MAX_CHUNK: Final = 16 * 1024
UDP_MAX_DATA: Final = 1024
# Blobs up to this size are answered inline (CMD_DATA) to CMD_DATA_WRRQ: it fits pyzk's 1024-byte recv.
INLINE_BLOB_MAX: Final = 1016

USHRT_MAX: Final = 0xFFFF
