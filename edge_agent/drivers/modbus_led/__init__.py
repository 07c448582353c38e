"""Modbus LED points display (RTU on RS-485 or Modbus TCP); register map: firmware_protocols.modbus_led."""
