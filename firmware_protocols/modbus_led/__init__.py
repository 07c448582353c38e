"""Our documented Modbus "points display" register map (REGISTERS.md), with per-vendor profiles.

Pure: standard library only. Framing (RTU CRC, MBAP) is pymodbus's job in the agent and simulator;
this package turns ranking content into register writes and a register image back into content.
"""

from firmware_protocols.modbus_led.codec import (
    MAX_WRITE_REGISTERS,
    apply_writes,
    coalesce,
    content_image,
    decode_clock,
    decode_registers,
    encode_brightness,
    encode_clock,
    encode_command,
    encode_content,
    encode_version,
    page_count,
)
from firmware_protocols.modbus_led.errors import ModbusLedEncodeError, ModbusLedError
from firmware_protocols.modbus_led.fields import decode_unsigned, shown_text
from firmware_protocols.modbus_led.messages import (
    Command,
    DisplayedContent,
    DisplayedRow,
    Face,
    Status,
    WriteBlock,
)
from firmware_protocols.modbus_led.profiles import DEFAULT_PROFILE, PROFILES, RegisterProfile

__all__ = [
    "DEFAULT_PROFILE",
    "MAX_WRITE_REGISTERS",
    "PROFILES",
    "Command",
    "DisplayedContent",
    "DisplayedRow",
    "Face",
    "ModbusLedEncodeError",
    "ModbusLedError",
    "RegisterProfile",
    "Status",
    "WriteBlock",
    "apply_writes",
    "coalesce",
    "content_image",
    "decode_clock",
    "decode_registers",
    "decode_unsigned",
    "encode_brightness",
    "encode_clock",
    "encode_command",
    "encode_content",
    "encode_version",
    "page_count",
    "shown_text",
]
