"""``--env-file``: the service's settings file (systemd ``EnvironmentFile=`` syntax) for one-off commands.

Rule: ``KEY=VALUE`` per line; blank lines and ``#`` comments skipped; one pair of surrounding quotes
is removed; the file's values win over the caller's environment, as they do for the service, so a
command run by hand sees exactly the service's settings.
"""

from __future__ import annotations

import os
from pathlib import Path

QUOTES = frozenset({"'", '"'})


def read_env_file(path: Path) -> dict[str, str]:
    """The file's variables; ValueError naming the line when one is not ``KEY=VALUE``."""
    variables: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, equals, value = line.partition("=")
        key = key.strip()
        if not equals or not key.replace("_", "").isalnum():
            raise ValueError(f"line {number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in QUOTES:
            value = value[1:-1]
        variables[key] = value
    return variables


def load_env_file(path: Path) -> None:
    """Put the file's variables into this process's environment."""
    os.environ.update(read_env_file(path))
