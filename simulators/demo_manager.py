"""The demo's manager: now and then awards a member a few points through the admin API.

Attendance alone settles after everyone's first punch of the day; a manager awarding points keeps
the demo's ranking moving and shows the other path onto the sign: admin API → ledger → ranking →
retained display content → agent → sign. Standard library only (urllib), like the rest of the demo.
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
import uuid
from typing import Any, Final

REASONS: Final = (
    "helped a customer",
    "kept the workshop tidy",
    "suggested an improvement",
    "trained a new colleague",
)


class DemoManager:
    def __init__(self, api: str, token: str, *, seed: int = 7) -> None:
        self._api, self._token = api, token
        self._random = random.Random(seed)
        self._members: list[dict[str, Any]] = []

    def award_someone(self) -> str:
        """Award a random member 1-5 points; a one-line description of what happened."""
        try:
            if not self._members:
                self._members = self._request("GET", "/members?limit=50")
            member = self._random.choice(self._members)
            points, reason = self._random.randint(1, 5), self._random.choice(REASONS)
            body = {"member_id": member["id"], "point_type": "A", "points": points, "reason": reason}
            self._request("POST", "/ledger-entries", body)
        except (OSError, ValueError, KeyError, IndexError) as exc:
            return f"manager: award failed ({exc})"
        return f"manager: +{points} to {member['display_name']} ({reason})"

    def display_link(self, label: str = "mpm-demo") -> str:
        """A display link that opens the dashboard without a token (internal: the demo's members
        gave no public-display consent, and a public link would list nobody)."""
        body = {"label": label, "audience": "internal", "ttl_s": 7 * 24 * 3600}
        url: str = self._request("POST", "/display-links", body)["url"]
        return url

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"}
        if method == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self._api + path, data=data, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
