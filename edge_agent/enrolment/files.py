"""The files of an enrolment in the agent's state directory."""

from __future__ import annotations

from typing import Final

KEY: Final = "agent.key"  # the agent's private key, mode 0600; never sent, never logged
PENDING_KEY: Final = "agent.key.pending"  # a new key while its enrolment is in flight
CERTIFICATE: Final = "agent.crt"
CA: Final = "ca.crt"
RECORD: Final = "enrolment.json"  # agent id, mqtt url, enrolled_at
MARKER: Final = "enrolled"  # written last; systemd's ConditionPathExists looks for it
