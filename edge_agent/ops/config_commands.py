"""``mpm-agent config show --effective --sources`` and ``config validate``, over the layered loader.

``show`` prints the effective configuration as TOML, each value followed by ``# from <source>`` (file:line,
env var or flag; ``# default`` when no layer set it). Secrets are masked. ``validate`` prints OK or every
problem, and returns the exit code: 0, or 78 (EX_CONFIG) as the service itself would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel

from edge_agent.settings_layers import EX_CONFIG, ConfigError, Source, format_path, load_layered

__all__ = ["render_effective", "show_command", "validate_command"]

_SECRET_KEY = re.compile(r"password|secret|token|comm_key|private_key|passphrase", re.IGNORECASE)
MASK = "********"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{key} = {_toml_value(item)}" for key, item in value.items()) + " }"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _is_table_list(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, Mapping) for item in value)


def _comment(path: tuple[str | int, ...], sources: Mapping[str, Source] | None) -> str:
    if sources is None:
        return ""
    source = sources.get(format_path(path))
    return f"  # from {source}" if source else "  # default"


def _render_table(
    table: Mapping[str, Any],
    path: tuple[str | int, ...],
    sources: Mapping[str, Source] | None,
    out: list[str],
) -> None:
    nested = {
        key: value for key, value in table.items() if isinstance(value, Mapping) or _is_table_list(value)
    }
    for key, value in table.items():
        if key in nested:
            continue
        if value is None:
            out.append(f"# {key} = (unset){_comment((*path, key), sources)}")
            continue
        shown = f'"{MASK}"' if _SECRET_KEY.search(key) and value not in ("", 0) else _toml_value(value)
        out.append(f"{key} = {shown}{_comment((*path, key), sources)}")
    for key, value in nested.items():
        if isinstance(value, Mapping):
            out.extend(["", f"[{format_path((*path, key))}]"])
            _render_table(value, (*path, key), sources, out)
            continue
        for index, item in enumerate(value):
            out.extend(["", f"[[{format_path((*path, key))}]]"])
            _render_table(item, (*path, key, index), sources, out)


def render_effective(instance: BaseModel, sources: Mapping[str, Source] | None = None) -> str:
    """The effective configuration as TOML; with ``sources``, each value carries ``# from ...``."""
    out: list[str] = []
    _render_table(instance.model_dump(mode="json"), (), sources, out)
    return "\n".join(out).lstrip("\n") + "\n"


def show_command(
    model: type[BaseModel],
    main_path: Path,
    env: Mapping[str, str],
    overrides: Sequence[str],
    out: TextIO,
    *,
    with_sources: bool = True,
) -> int:
    """``config show --effective [--sources]``: print the merged configuration; 0 or 78."""
    try:
        instance, sources = load_layered(model, main_path, env, overrides)
    except ConfigError as exc:
        out.write(f"invalid configuration:\n{_indent(exc.problems)}")
        return EX_CONFIG
    out.write(render_effective(instance, sources if with_sources else None))
    return 0


def validate_command(
    model: type[BaseModel], main_path: Path, env: Mapping[str, str], overrides: Sequence[str], out: TextIO
) -> int:
    """``config validate``: print OK with a count per layer, or every problem; return 0 or 78."""
    try:
        _instance, sources = load_layered(model, main_path, env, overrides)
    except ConfigError as exc:
        out.write(f"{main_path}: INVALID ({len(exc.problems)} problem(s))\n{_indent(exc.problems)}")
        return EX_CONFIG
    counts = {kind: sum(1 for s in sources.values() if s.kind == kind) for kind in ("file", "env", "flag")}
    out.write(
        f"{main_path}: OK ({counts['file']} values from files, {counts['env']} from environment, "
        f"{counts['flag']} from flags)\n"
    )
    return 0


def _indent(problems: Sequence[str]) -> str:
    return "".join(f"  {problem}\n" for problem in problems)
