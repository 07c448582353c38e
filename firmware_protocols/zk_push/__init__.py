"""ZKTeco ADMS ("PUSH", HTTP ``/iclock/*``): request classification, replies, device-role encoders.

The agent is the HTTP server and the terminal the client (PROTOCOLS.md §3). See ``requests`` for the
theory of operation.
"""

from firmware_protocols.zk_push.errors import ZkPushLocalError, ZkPushProtocolError
from firmware_protocols.zk_push.messages import (
    AttLogUpload,
    AttPhotoUpload,
    AttRecord,
    Check,
    ClearLog,
    CommandPoll,
    CommandResult,
    CommandResultUpload,
    DeleteUser,
    DeviceCommand,
    Info,
    OperLogUpload,
    OpLogEntry,
    OptionsRequest,
    OtherUpload,
    QueuedCommand,
    TerminalOptions,
    TerminalRequest,
    UnknownCommand,
    UpdateUser,
    UserEntry,
)
from firmware_protocols.zk_push.replies import (
    BIOMETRIC_TRANS_FLAGS,
    command_text,
    commands_reply,
    ok_reply,
    options_reply,
    parse_command,
    parse_commands_reply,
    parse_options_reply,
)
from firmware_protocols.zk_push.requests import ENDPOINTS, parse_request
from firmware_protocols.zk_push.text import decode_text, encode_text, wants_gbk

__all__ = [
    "BIOMETRIC_TRANS_FLAGS",
    "ENDPOINTS",
    "AttLogUpload",
    "AttPhotoUpload",
    "AttRecord",
    "Check",
    "ClearLog",
    "CommandPoll",
    "CommandResult",
    "CommandResultUpload",
    "DeleteUser",
    "DeviceCommand",
    "Info",
    "OpLogEntry",
    "OperLogUpload",
    "OptionsRequest",
    "OtherUpload",
    "QueuedCommand",
    "TerminalOptions",
    "TerminalRequest",
    "UnknownCommand",
    "UpdateUser",
    "UserEntry",
    "ZkPushLocalError",
    "ZkPushProtocolError",
    "command_text",
    "commands_reply",
    "decode_text",
    "encode_text",
    "ok_reply",
    "options_reply",
    "parse_command",
    "parse_commands_reply",
    "parse_options_reply",
    "parse_request",
    "wants_gbk",
]
