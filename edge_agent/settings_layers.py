"""Layered configuration for any pydantic model, with the source of every value remembered.

Layers, later wins: the main TOML file; every ``conf.d/*.toml`` beside it, in name order; ``MPM_AGENT_*``
environment variables (``__`` separates nested keys, a number indexes a list: ``MPM_AGENT_MQTT__URL``,
``MPM_AGENT_DEVICES__0__PORT``); ``--set a.b=value`` flags. Tables merge key by key; a list (e.g.
``[[devices]]``) is replaced whole by a later layer that sets it. Environment and flag values are parsed as
TOML values (``true``, ``10``, ``"x"``), anything else is taken as a plain string.

Every unknown key is an error naming its source with a suggestion, so a typo never passes silently;
validation errors name the field and where its value came from. ``config validate`` exits 0 or 78.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from edge_agent.ops.config_schema import KeyPath, find_unknown

__all__ = ["EX_CONFIG", "ConfigError", "Source", "format_path", "load_layered"]

M = TypeVar("M", bound=BaseModel)

EX_CONFIG = 78  # sysexits EX_CONFIG; the unit's RestartPreventExitStatus
ENV_PREFIX = "MPM_AGENT_"
_KEY_LINE = re.compile(r"""^([A-Za-z0-9_\-."' ]+?)\s*=""")
_TABLE_LINE = re.compile(r"^\[\s*([^\[\]]+?)\s*\]")
_ARRAY_LINE = re.compile(r"^\[\[\s*([^\[\]]+?)\s*\]\]")
_FLAG_SEGMENT = re.compile(r"^([^\[\]]+)((?:\[\d+\])*)$")


@dataclass(frozen=True, kw_only=True, slots=True)
class Source:
    kind: Literal["file", "env", "flag", "cloud"]
    # "/etc/mpm-agent/agent.toml:12", "MPM_AGENT_MQTT__URL", "--set mqtt.url=...", "cloud inventory version 3"
    where: str

    def __str__(self) -> str:
        return {"file": "", "env": "env ", "flag": "flag ", "cloud": ""}[self.kind] + self.where


class ConfigError(Exception):
    """The configuration cannot be used; each problem names the setting and its source."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


def format_path(path: KeyPath) -> str:
    """``("devices", 0, "port")`` -> ``devices[0].port``."""
    text = ""
    for segment in path:
        text += f"[{segment}]" if isinstance(segment, int) else ("." if text else "") + segment
    return text


def _split_dotted(text: str) -> KeyPath:
    return tuple(part.strip().strip("\"'") for part in text.split("."))


def _key_lines(text: str) -> dict[KeyPath, int]:
    """Best-effort line number of every key and table header in a TOML text."""
    lines: dict[KeyPath, int] = {}
    prefix: KeyPath = ()
    counters: dict[KeyPath, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if array := _ARRAY_LINE.match(line):
            name = _split_dotted(array[1])
            counters[name] = counters.get(name, -1) + 1
            prefix = (*name, counters[name])
        elif table := _TABLE_LINE.match(line):
            prefix = _split_dotted(table[1])
        elif key := _KEY_LINE.match(line):
            lines.setdefault((*prefix, *_split_dotted(key[1])), number)
            continue
        else:
            continue
        lines.setdefault(prefix, number)
    return lines


def _leaves(node: object, prefix: KeyPath = ()) -> list[KeyPath]:
    """Paths of every value that is not a table (arrays of tables are walked element by element)."""
    if isinstance(node, Mapping):
        return [leaf for key, value in node.items() for leaf in _leaves(value, (*prefix, key))]
    if isinstance(node, list) and node and all(isinstance(item, Mapping) for item in node):
        return [leaf for index, item in enumerate(node) for leaf in _leaves(item, (*prefix, index))]
    return [prefix]


def _deep_merge(base: dict[str, Any], layer: Mapping[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = value


def _set_path(data: dict[str, Any], path: KeyPath, value: object) -> str | None:
    """Set ``value`` at ``path``, creating tables; an error text when a list index does not exist."""
    node: Any = data
    for depth, segment in enumerate(path[:-1]):
        if isinstance(segment, int):
            if not isinstance(node, list) or not -len(node) <= segment < len(node):
                return f"{format_path(path[: depth + 1])}: no such list element"
            node = node[segment]
        else:
            node = node.setdefault(segment, {})
    last = path[-1]
    if isinstance(last, int) and not (isinstance(node, list) and -len(node) <= last < len(node)):
        return f"{format_path(path)}: no such list element"
    node[last] = value
    return None


def parse_value(raw: str) -> object:
    """A TOML value if ``raw`` is one (``true``, ``10``, ``"x"``, ``[1, 2]``), else ``raw`` itself."""
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw
    return value if isinstance(value, bool | int | float | str | list | dict) else raw


class _Layers:
    """Accumulates merged data, the source of each leaf, and problems, layer by layer."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model
        self.data: dict[str, Any] = {}
        self.sources: dict[KeyPath, Source] = {}
        self.problems: list[str] = []

    def forget_under(self, path: KeyPath) -> None:
        for known in [known for known in self.sources if known[: len(path)] == path]:
            del self.sources[known]

    def add_file(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
            layer = tomllib.loads(text)
        except (OSError, UnicodeDecodeError) as exc:
            self.problems.append(f"{path}: cannot read: {exc}")
            return
        except tomllib.TOMLDecodeError as exc:
            self.problems.append(f"{path}: not valid TOML: {exc}")
            return
        lines = _key_lines(text)
        for key, value in layer.items():
            if isinstance(value, list):
                self.forget_under((key,))  # a list is replaced whole
        _deep_merge(self.data, layer)
        for leaf in _leaves(layer):
            where = f"{path}:{lines[leaf]}" if leaf in lines else str(path)
            self.sources[leaf] = Source(kind="file", where=where)
            self.check(leaf, lambda p, where=where: f"{where}: {format_path(p)}", format_path)

    def add_value(self, path: KeyPath, raw: str, source: Source, spell: Any) -> None:
        if self.check(path, lambda _p: str(source.where), spell):
            return
        error = _set_path(self.data, path, parse_value(raw))
        if error:
            self.problems.append(f"{source}: {error}")
            return
        self.forget_under(path)
        self.sources[path] = source

    def check(self, path: KeyPath, label: Any, spell: Any) -> bool:
        """Record an unknown-key problem for ``path``; True if there was one."""
        unknown = find_unknown(self.model, path, self.data)
        if unknown is None:
            return False
        segment = path[unknown.index]
        close = difflib.get_close_matches(str(segment), unknown.candidates, n=1, cutoff=0.6)
        hint = f"; did you mean {spell((*path[: unknown.index], close[0]))}?" if close else ""
        self.problems.append(f"{label(path)}: {unknown.reason}{hint}")
        return True


def _env_path(name: str, prefix: str) -> KeyPath:
    return tuple(int(p) if p.isdigit() else p.lower() for p in name[len(prefix) :].split("__"))


def _env_name(path: KeyPath, prefix: str) -> str:
    return prefix + "__".join(str(segment).upper() for segment in path)


def _flag_path(key: str) -> KeyPath | None:
    path: list[str | int] = []
    for part in key.split("."):
        match = _FLAG_SEGMENT.match(part.strip())
        if match is None:
            return None
        path.append(match[1])
        path.extend(int(index) for index in re.findall(r"\[(\d+)\]", match[2]))
    return tuple(path)


def load_layered(
    model: type[M],
    main_path: Path,
    env: Mapping[str, str],
    overrides: Sequence[str] = (),
    *,
    env_prefix: str = ENV_PREFIX,
    ignore_env: Sequence[str] = (),
) -> tuple[M, dict[str, Source]]:
    """Load ``model`` from the file, ``conf.d/*.toml``, env and ``--set`` flags; raise ``ConfigError``."""
    layers = _Layers(model)
    if not main_path.is_file():
        raise ConfigError([f"{main_path}: configuration file not found"])
    for path in [main_path, *sorted((main_path.parent / "conf.d").glob("*.toml"))]:
        layers.add_file(path)
    for name in sorted(env):
        if name.startswith(env_prefix) and name not in ignore_env:
            source = Source(kind="env", where=name)
            layers.add_value(
                _env_path(name, env_prefix), env[name], source, lambda p: _env_name(p, env_prefix)
            )
    for item in overrides:
        key, equals, raw = item.partition("=")
        key_path = _flag_path(key)
        if not equals or key_path is None:
            layers.problems.append(f"--set {item}: expected KEY=VALUE, e.g. --set mqtt.url=mqtts://host:8883")
            continue
        layers.add_value(key_path, raw, Source(kind="flag", where=f"--set {item}"), format_path)
    if layers.problems:
        raise ConfigError(layers.problems)
    try:
        instance = model.model_validate(layers.data)
    except ValidationError as exc:
        raise ConfigError(_describe_errors(exc, layers, main_path)) from None
    return instance, {format_path(path): source for path, source in layers.sources.items()}


def _clean_loc(loc: Sequence[str | int], data: Mapping[str, Any]) -> KeyPath:
    """Drop the union tags pydantic puts in a location (``devices.0.alpha_sign.port``)."""
    path: list[str | int] = []
    node: object = data
    for position, segment in enumerate(loc):
        last = position == len(loc) - 1
        if isinstance(node, Mapping) and segment not in node and not last:
            continue
        path.append(segment)
        node = (
            node.get(segment)
            if isinstance(node, Mapping)
            else (
                node[segment]
                if isinstance(node, list) and isinstance(segment, int) and segment < len(node)
                else None
            )
        )
    return tuple(path)


def _source_of(path: KeyPath, sources: Mapping[KeyPath, Source]) -> Source | None:
    for length in range(len(path), 0, -1):
        if path[:length] in sources:
            return sources[path[:length]]
    return next((source for known, source in sources.items() if known[: len(path)] == path), None)


def _describe_errors(exc: ValidationError, layers: _Layers, main_path: Path) -> list[str]:
    problems = []
    for error in exc.errors():
        path = _clean_loc(error["loc"], layers.data)
        source = _source_of(path, layers.sources)
        where = f"from {source}" if source else f"not set in {main_path}, conf.d, env or --set"
        problems.append(f"{format_path(path) or '(top level)'}: {error['msg']} ({where})")
    return problems
