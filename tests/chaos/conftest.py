"""The chaos suite's options and summary: ``--long`` runs every scenario at full length (same tests).

Each scenario appends its figures to a JSON-lines file; at the end of the run the table is printed,
and with ``--long`` it is also written to ``docs/CHAOS.md`` (the README links there).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from tests.chaos.harness import Report, record_report

ROOT = Path(__file__).resolve().parents[2]
SUMMARY_MD = ROOT / "docs" / "CHAOS.md"
_SUMMARY_KEY = pytest.StashKey[Path]()


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Scale:
    """The knobs that differ between the CI subset and the long run."""

    long: bool
    kill_rounds: int
    punches_per_round: int
    hang_s: float
    outage_s: float
    backlog: int
    ingest_kills: int


CI = Scale(
    long=False, kill_rounds=20, punches_per_round=60, hang_s=12, outage_s=10, backlog=5_000, ingest_kills=3
)
LONG = Scale(
    long=True,
    kill_rounds=100,
    punches_per_round=100,
    hang_s=40,
    outage_s=60,
    backlog=100_000,
    ingest_kills=10,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--long", action="store_true", default=False, help="chaos: run the long versions")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Scenarios run minutes, not seconds: a longer per-test timeout here (an hour with ``--long``)."""
    seconds = 3600 if config.getoption("--long") else 300
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.timeout(seconds))


def pytest_configure(config: pytest.Config) -> None:
    path = Path(str(config.rootpath)) / ".pytest_cache" / "chaos-summary.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    config.stash[_SUMMARY_KEY] = path


@pytest.fixture
def scale(request: pytest.FixtureRequest) -> Scale:
    return LONG if request.config.getoption("--long") else CI


@pytest.fixture
def report(request: pytest.FixtureRequest) -> ReportSink:
    return ReportSink(request.config.stash[_SUMMARY_KEY])


class ReportSink:
    """Record a scenario's figures (printed in the terminal summary) and assert none was lost or doubled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, result: Report) -> Report:
        record_report(result, self.path)
        print(result)
        return result


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    path = config.stash.get(_SUMMARY_KEY, None)
    if path is None or not path.exists() or not path.read_text().strip():
        return
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    table = markdown_table(rows)
    terminalreporter.write_sep("=", "chaos summary")
    terminalreporter.write_line(table)
    if config.getoption("--long"):
        write_figures(SUMMARY_MD, table)


START, END = "<!-- chaos-figures:start -->", "<!-- chaos-figures:end -->"


def write_figures(doc: Path, table: str) -> None:
    """Replace the figures between the markers of ``doc`` (the prose around them is hand-written)."""
    text = doc.read_text() if doc.exists() else f"# Chaos suite figures\n\n{START}\n{END}\n"
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    doc.write_text(f"{head}{START}\n{table}\n{END}{tail}")


COLUMNS = ("scenario", "rounds", "generated", "found", "lost", "duplicated", "unexpected", "drain_seconds")


def markdown_table(rows: list[dict[str, object]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in COLUMNS) + " |" for row in rows]
    return "\n".join(lines)
