"""The agent uses no pydantic plugins: do not load pydantic's plugin machinery.

Pydantic's plugin loader imports ``importlib.metadata`` (and through it ``email``, ``zipfile``,
``csv``, ``shutil``, ``tempfile``...) the first time a model is built, only to scan every installed
distribution for ``pydantic`` entry points. On a Pi-class box that costs ≈ 1 MB resident for
nothing (issue 10, agent memory). ``install()`` registers, before any model is built, a loader
that finds no plugins: what ``PYDANTIC_DISABLE_PLUGINS=__all__`` gives, without the import.
Validation itself is untouched. A loader pydantic already imported is left as it is.
Importing this module installs it (``edge_agent.config`` does, before its first model).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable
from typing import Final

LOADER: Final = "pydantic.plugin._loader"


def _no_plugins() -> Iterable[object]:
    return ()


def install() -> None:
    """Make pydantic's ``get_plugins()`` return no plugins without scanning package metadata."""
    if LOADER in sys.modules:
        return
    loader = types.ModuleType(LOADER, "No pydantic plugins in the agent (edge_agent._pydantic_plugins).")
    loader.get_plugins = _no_plugins  # type: ignore[attr-defined]  # the one name pydantic imports from it
    sys.modules[LOADER] = loader


install()
