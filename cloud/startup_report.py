"""What ``mpm-cloud`` tells an installer at start: the database it opened, the master key it uses, and
every ``MPM_*`` variable it does not know (with the closest known name), so nothing is silently ignored.

Rules: a misspelt variable is a warning, never fatal, in every environment: a setting removed by an
upgrade must not stop a production service, and the settings that matter for safety fail on their own
(production without ``MPM_MASTER_KEY`` refuses to start, whatever the misspelling). Variables of other
programs that share the prefix (the agent's ``MPM_AGENT_*``, the test and bench harness) are not ours to
judge and are skipped.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from cloud.settings import DEV_KEY_WARNING, CloudSettings

PREFIX: Final = "MPM_"
# Prefixes of variables that belong to other programs run with the same environment.
FOREIGN_PREFIXES: Final = ("MPM_AGENT_", "MPM_TEST_", "MPM_BENCH_", "MPM_FAULT_", "MPM_UNSAFE_")
FOREIGN_NAMES: Final = frozenset({"MPM_REQUIRE_MOSQUITTO", "MPM_WRITE_API_DOC"})


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class UnknownVariable:
    """An ``MPM_*`` variable no setting reads, and the known name it most resembles (if any)."""

    name: str
    suggestion: str | None

    def message(self) -> str:
        """One line for the log."""
        hint = f"; did you mean {self.suggestion}?" if self.suggestion else ""
        return f"{self.name}: unknown setting, ignored{hint}"


def known_variables() -> frozenset[str]:
    """Every environment variable a cloud setting reads."""
    return frozenset(PREFIX + name.upper() for name in CloudSettings.model_fields)


def unknown_variables(
    environ: Mapping[str, str], known: Iterable[str] | None = None
) -> list[UnknownVariable]:
    """The ``MPM_*`` variables in ``environ`` that no setting reads, in name order."""
    names = sorted(known if known is not None else known_variables())
    found = []
    for variable in sorted(environ):
        upper = variable.upper()
        if not upper.startswith(PREFIX) or upper in names or _foreign(upper):
            continue
        close = difflib.get_close_matches(upper, names, n=1, cutoff=0.6)
        found.append(UnknownVariable(name=variable, suggestion=close[0] if close else None))
    return found


def _foreign(upper: str) -> bool:
    return upper in FOREIGN_NAMES or upper.startswith(FOREIGN_PREFIXES)


def sqlite_file(database_url: str) -> Path | None:
    """The absolute path of a file-backed SQLite database, or None (in memory, another engine)."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return None
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).expanduser().resolve()


def database_location(database_url: str) -> str:
    """Where the database is, for humans: the absolute SQLite path, or the URL without its password."""
    path = sqlite_file(database_url)
    if path is not None:
        return f"SQLite file {path}"
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "an unparseable MPM_DATABASE_URL"


def log_startup(settings: CloudSettings, environ: Mapping[str, str], log: logging.Logger) -> None:
    """Log the database location, a loud warning for the development key, and every unknown variable."""
    log.info("database: %s (environment %s)", database_location(settings.database_url), settings.environment)
    if settings.uses_dev_key():
        log.warning("%s", DEV_KEY_WARNING)
    for unknown in unknown_variables(environ):
        log.warning("%s", unknown.message())
