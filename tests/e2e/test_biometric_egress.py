"""BIO-1 egress check: a whole simulated site whose terminals push photos, fingerprint and face
templates and user pictures (the ISAPI terminal even after being told not to), and nothing of them
leaves the agent: no MQTT payload (a subscriber to ``#`` on the broker), no outbox row (sampled all
run long, and the outbox file's raw pages), no cloud table (and the cloud database's raw pages)
holds picture or template bytes. The control plants such bytes and the same search finds them."""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Final

import paho.mqtt.client as mqtt

from simulators.isapi_face.terminal import FAKE_JPEG as ISAPI_JPEG
from simulators.state_file import read_state
from simulators.zk_push.terminal import FAKE_TEMPLATE
from tests.e2e.egress_scan import database_findings, file_findings, findings, sqlite_values
from tests.e2e.processes import BIN, cloud_env, process_group, seed_demo, start_cloud, start_site
from tests.e2e.test_site import (
    AGENT_ID,
    ALPHA,
    BACK,
    FACE,
    FRONT,
    MODBUS_FAULTS,
    SITE_FILE,
    Cloud,
    agent_config,
    per_device,
    set_up_cloud,
)
from tests.support.broker import Broker
from tests.support.network import free_port
from tests.support.polling import wait_for

BIOMETRIC_TERMINALS: Final = {
    'sn = "SIMBACK00001"\n': 'sn = "SIMBACK00001"\nphotos = true\ntemplates = true\n',
    'password = "site-test-1"\n': (
        'password = "site-test-1"\npictures = true\nignore_picture_setting = true\n'
    ),
}


class Wiretap:
    """Every MQTT message on the broker (``#``), kept as (topic, payload)."""

    def __init__(self, broker: Broker) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="egress-wiretap")
        self.client.on_connect = lambda client, *_: client.subscribe("#", qos=1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._keep
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def _keep(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload)))

    def taken(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return list(self.messages)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def biometrics_offered(state_dir: Path) -> dict[str, int]:
    back = (read_state(state_dir / "back-door.json") or {}).get("counters", {})
    face = (read_state(state_dir / f"{FACE}.json") or {}).get("counters", {})
    return {
        "photos": int(back.get("photos_uploaded", 0)),
        "templates": int(back.get("templates_uploaded", 0)),
        "pictures": int(face.get("pictures_sent", 0)),
    }


def test_no_picture_or_template_leaves_the_site(tmp_path: Path, broker: Broker) -> None:
    text = SITE_FILE.read_text(encoding="utf-8").replace("ADMS_PORT", str(free_port()))
    for plain, biometric in BIOMETRIC_TERMINALS.items():
        assert plain in text
        text = text.replace(plain, biometric)
    site_file = tmp_path / "site.toml"
    site_file.write_text(text, encoding="utf-8")
    (tmp_path / "hall-board-faults.json").write_text(json.dumps(MODBUS_FAULTS), encoding="utf-8")
    state_dir, cloud_db, outbox = tmp_path / "site", tmp_path / "cloud.db", tmp_path / "outbox.db"
    env = cloud_env(cloud_db, broker.url)
    seeded = seed_demo(env, AGENT_ID, ALPHA)
    wiretap = Wiretap(broker)
    outbox_hits: dict[tuple[str, str], set[str]] = {}
    outbox_rows_seen: set[bytes] = set()
    try:
        assert wiretap.subscribed.wait(10), "the wiretap could not subscribe to #"
        with process_group(tmp_path / "logs") as group:
            start_site(group, site_file, state_dir)
            cloud = Cloud(start_cloud(group, env), str(seeded["token"]), cloud_db)
            set_up_cloud(cloud)
            config = agent_config(tmp_path, broker, state_dir)
            group.start("agent", [str(BIN / "mpm-agent"), "run", "--config", str(config)])

            def sample_outbox() -> None:
                """Every outbox row present now (rows leave on ack, so sample all run long)."""
                if not outbox.exists():
                    return
                try:
                    for table, column, data in sqlite_values(outbox):
                        outbox_rows_seen.add(data)
                        if hit := findings(data):
                            outbox_hits.setdefault((table, column), set()).update(hit)
                except sqlite3.OperationalError:
                    return  # created but not yet migrated: the next sample sees it

            def offered_and_flowed() -> dict[str, int] | None:
                sample_outbox()
                assert group.children["agent"].poll() is None, group.log_tail("agent")
                offered = biometrics_offered(state_dir)
                punches = per_device(cloud)
                if min(offered.values()) >= 2 and {FRONT, BACK, FACE} <= set(punches):
                    return offered
                return None

            offered = wait_for(offered_and_flowed, timeout=90, what="biometrics offered, punches stored")
            # Punches taken after the biometrics were offered reach the cloud: whatever the agent
            # did with those pictures and templates, it has done it by then.
            before = per_device(cloud)

            def later_punches_stored() -> bool:
                sample_outbox()
                now = per_device(cloud)
                return now[BACK] > before[BACK] + 1 and now[FACE] > before[FACE] + 1

            wait_for(later_punches_stored, timeout=60, what="punches after the biometrics")
            assert min(biometrics_offered(state_dir).values()) >= min(offered.values())

            mqtt_hits = {topic: hit for topic, payload in wiretap.taken() if (hit := findings(payload))}
            assert wiretap.taken(), "the wiretap heard nothing: the search below would prove nothing"
            assert outbox_rows_seen, "no outbox row was ever sampled"
            assert mqtt_hits == {}
            assert outbox_hits == {}
            assert file_findings(outbox) | file_findings(Path(f"{outbox}-wal")) == set()
            assert database_findings(cloud_db) == {}
            assert file_findings(cloud_db) | file_findings(Path(f"{cloud_db}-wal")) == set()

            # Control: the same searches find planted picture and template bytes.
            wiretap.client.publish("egress/control", ISAPI_JPEG, qos=1)
            wait_for(lambda: any(t == "egress/control" for t, _ in wiretap.taken()), timeout=10, what="plant")
            planted = {t: findings(p) for t, p in wiretap.taken() if t == "egress/control"}
            assert "jpeg start" in planted["egress/control"]
            with closing(sqlite3.connect(cloud_db, timeout=10)) as db:
                db.execute(
                    "INSERT INTO quarantine (topic, payload_prefix, payload_size, payload_sha256, error,"
                    " received_at) VALUES ('x', ?, 1, '0', 'control', '2026-01-01')",
                    (FAKE_TEMPLATE,),
                )
                db.commit()
            assert database_findings(cloud_db) == {("quarantine", "payload_prefix"): {"template"}}
    finally:
        wiretap.close()
