"""Sign content that runs itself on the agent: playlist, schedules, live clock, offline marker."""

from edge_agent.signage.config import Announcement, NightWindow, PlaylistItem, SignProgrammeConfig
from edge_agent.signage.programme import LIVE_CLOCK, Face, SignProgramme, is_live_clock
from edge_agent.signage.schedule import CronWindow
from edge_agent.signage.staleness import Staleness, marked

__all__ = [
    "LIVE_CLOCK",
    "Announcement",
    "CronWindow",
    "Face",
    "NightWindow",
    "PlaylistItem",
    "SignProgramme",
    "SignProgrammeConfig",
    "Staleness",
    "is_live_clock",
    "marked",
]
