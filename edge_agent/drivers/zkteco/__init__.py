"""ZKTeco terminal over the 4370 binary protocol (TCP or UDP)."""
