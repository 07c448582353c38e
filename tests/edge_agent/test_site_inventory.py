"""The cloud's device inventory on the agent: validation with the agent's own models, local pins,
the saved copy, and ``config show --sources`` saying which source won for each value."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from edge_agent.config import load_config
from edge_agent.ops.inventory_show import show_agent_config
from edge_agent.site_inventory import InventoryRefused, load_saved, merged, parse_inventory, save

SIGN: dict[str, Any] = {"kind": "alpha_sign", "name": "lobby", "port": "/dev/ttyUSB0", "columns": 20}
DOOR: dict[str, Any] = {"kind": "zkteco", "name": "front", "host": "192.168.1.201"}


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ({"version": 0, "devices": []}, "version: must be a positive integer"),
        ({"version": True, "devices": []}, "version: must be a positive integer"),
        ({"version": 1, "devices": {}}, "devices: must be a list"),
        ({"version": 1, "devices": [SIGN | {"columns": 2}]}, "devices.0.alpha_sign.columns"),
        ({"version": 1, "devices": [SIGN | {"colour": "red"}]}, "devices.0.alpha_sign.colour"),
        ({"version": 1, "devices": [{"kind": "toaster", "name": "t"}]}, "devices.0"),
        ({"version": 1, "devices": [SIGN, SIGN]}, "the name 'lobby' is used twice"),
        ({"version": 1, "devices": [SIGN] * 65}, "at most 64"),
    ],
)
def test_a_bad_inventory_is_refused_naming_the_field(args: dict[str, Any], reason: str) -> None:
    with pytest.raises(InventoryRefused, match=reason.replace(".", r"\.").replace("(", r"\(")):
        parse_inventory(args)


def test_a_good_inventory_is_accepted_as_the_agent_models_read_it() -> None:
    inventory = parse_inventory({"version": 3, "devices": [SIGN, DOOR]})
    assert inventory.version == 3
    assert [d.name for d in inventory.devices] == ["lobby", "front"]
    assert inventory.given["front"] == {"kind", "name", "host"}


def test_local_devices_are_pinned_by_name(tmp_path: Path) -> None:
    local = parse_inventory({"version": 1, "devices": [DOOR | {"host": "10.0.0.9"}]}).devices
    cloud = parse_inventory({"version": 2, "devices": [SIGN, DOOR]})
    devices, sources = merged(local, cloud)
    assert [(d.name, getattr(d, "host", None)) for d in devices] == [("front", "10.0.0.9"), ("lobby", None)]
    assert sources == {"front": "local", "lobby": "cloud"}


def test_the_saved_inventory_survives_a_restart_and_a_damaged_one_is_ignored(tmp_path: Path) -> None:
    assert load_saved(tmp_path) is None
    save(tmp_path, {"version": 4, "devices": [SIGN]})
    saved = load_saved(tmp_path)
    assert saved is not None
    assert (saved.version, [d.name for d in saved.devices]) == (4, ["lobby"])
    (tmp_path / "cloud-inventory.json").write_text('{"version": 5, "devices": [{"kind": "alpha_sign"')
    assert load_saved(tmp_path) is None  # the cloud sends it again; the local devices still run


def test_config_show_sources_says_which_source_won(tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(
        'agent_id = "site-1"\n[mqtt]\nurl = "mqtt://127.0.0.1:1883"\n'
        f'[outbox]\npath = "{tmp_path / "outbox.db"}"\n'
        '[[devices]]\nkind = "zkteco"\nname = "front"\nhost = "10.0.0.9"\n'
    )
    (tmp_path / "cloud-inventory.json").write_text(json.dumps({"version": 7, "devices": [DOOR, SIGN]}))
    out = io.StringIO()

    assert show_agent_config(config, {}, [], out, with_sources=True) == 0

    text = out.getvalue()
    assert f'host = "10.0.0.9"  # from {config}:9' in text  # pinned locally: the cloud's host lost
    assert "192.168.1.201" not in text
    assert '[[devices]]\nkind = "alpha_sign"  # from cloud inventory version 7' in text
    assert 'port = "/dev/ttyUSB0"  # from cloud inventory version 7' in text
    assert "baudrate = 9600  # default" in text
    assert len(load_config(config).devices) == 1  # the files alone still hold only the local device
