"""The site meter over real MQTT (Mosquitto on 127.0.0.1:1883), and its message checks."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid

import pytest

from interface_b_harness import wait_for
from smartcharge.cem.meter import MeterReading, MqttMeter, MqttMeterConfig, parse_reading
from smartcharge.core.errors import ValidationError


def _broker_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.integration
@pytest.mark.skipif(not _broker_up(), reason="no MQTT broker on 127.0.0.1:1883")
async def test_readings_arrive_over_mqtt_and_bad_messages_are_refused() -> None:
    """Readings published to the topic reach the listeners; a malformed one is counted and
    dropped, the previous reading stays (and keeps ageing)."""
    import aiomqtt

    topic = f"smartcharge-test/{uuid.uuid4().hex}/meter"
    meter = MqttMeter(MqttMeterConfig(topic=topic))
    got: list[MeterReading] = []

    async def listen(reading: MeterReading) -> None:
        got.append(reading)

    meter.subscribe(listen)
    stop = asyncio.Event()
    task = asyncio.create_task(meter.run(stop))
    try:
        await asyncio.wait_for(meter.connected.wait(), 10)
        async with aiomqtt.Client("127.0.0.1", 1883) as client:
            good = {"import_w": 41250.0, "phase_a": [61.2, 58.0, 60.3], "ts": 1764650000.0}
            await client.publish(topic, json.dumps(good), qos=1)
            await wait_for(lambda: len(got) == 1, 10, "first reading")
            await client.publish(topic, json.dumps({"import_w": "lots"}), qos=1)
            await client.publish(topic, json.dumps({"import_w": 1000.0}), qos=1)
            await wait_for(lambda: len(got) == 2, 10, "second reading")
        assert got[0] == MeterReading(41250.0, 1764650000.0, (61.2, 58.0, 60.3), f"mqtt:{topic}")
        assert got[1].import_w == 1000.0 and got[1].phase_a is None
        assert meter.refused == 1
        assert meter.latest() == got[1]
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"not json", "payload"),
        (b"[1, 2]", "payload"),
        (b'{"phase_a": [1, 2, 3]}', "import_w"),
        (b'{"import_w": 5, "phase_a": [1, 2]}', "phase_a"),
        (b'{"import_w": 5, "phase_a": [1, -2, 3]}', "phase_a"),
        (b'{"import_w": 5, "ts": "now"}', "ts"),
        (b'{"import_w": true}', "import_w"),
    ],
)
def test_a_bad_meter_message_is_refused_naming_the_field(payload: bytes, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_reading(payload, 1764650000.0, "test")
    assert info.value.field == field


def test_topic_with_wildcards_is_refused() -> None:
    with pytest.raises(ValidationError, match="meter.topic"):
        MqttMeterConfig(topic="site/#")
