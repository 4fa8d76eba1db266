"""Consumes a topic in the Confluent wire format with confluent-kafka's own DeserializingConsumer and
AvroDeserializer (schemas fetched from the registry by the id in each message), and compares every
alert with its source: the alerts of the Avro container files given, read by fastavro.

Usage: confluent_avro_consume.py BOOTSTRAP REGISTRY_URL TOPIC COUNT TIMEOUT_S FILE...

Prints one JSON line per message: its partition, its key (a string: StringDeserializer), the alert's
id (candid, or diaSourceId for Rubin; a string, all 64 bits), and whether the decoded alert equals,
field by field, a source alert with that id ("equal"; "diff" names the first field that differs
from each candidate). Exit 0 when COUNT messages arrived within TIMEOUT_S.
"""
import math
import sys
import time
import uuid

import fastavro
from confluent_kafka import DeserializingConsumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import StringDeserializer
import json


def alert_id(alert: dict) -> str:
    return str(alert["diaSourceId"] if "diaSourceId" in alert else alert["candid"])


def first_difference(a, b, path: str = "") -> str | None:
    """The path of the first value that differs (NaN equals NaN: a float field may hold it), or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a.keys()) != list(b.keys()):
            return f"{path or '/'} (fields {list(a.keys())} != {list(b.keys())})"
        for k in a:
            d = first_difference(a[k], b[k], f"{path}/{k}")
            if d is not None:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path} (length {len(a)} != {len(b)})"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}/{i}")
            if d is not None:
                return d
        return None
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return None
    if type(a) is not type(b) or a != b:
        return f"{path} ({a!r:.60} != {b!r:.60})"
    return None


def main() -> int:
    bootstrap, registry_url, topic, count, timeout, *files = sys.argv[1:]
    sources: dict[str, list[dict]] = {}
    for path in files:
        with open(path, "rb") as f:
            for record in fastavro.reader(f):
                sources.setdefault(alert_id(record), []).append(record)
    registry = SchemaRegistryClient({"url": registry_url})
    consumer = DeserializingConsumer({
        "bootstrap.servers": bootstrap,
        "group.id": "confluent-avro-interop-" + uuid.uuid4().hex,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "key.deserializer": StringDeserializer("utf_8"),
        "value.deserializer": AvroDeserializer(registry),
    })
    consumer.subscribe([topic])
    seen = 0
    deadline = time.time() + float(timeout)
    try:
        while seen < int(count) and time.time() < deadline:
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error() is not None:
                raise RuntimeError(str(message.error()))
            alert = message.value()
            ident = alert_id(alert)
            diffs = [first_difference(alert, s) for s in sources.get(ident, [])]
            print(json.dumps({
                "partition": message.partition(),
                "key": message.key(),
                "alertId": ident,
                "equal": any(d is None for d in diffs),
                "diff": [d for d in diffs if d is not None] if diffs else "no source alert with this id",
            }), flush=True)
            seen += 1
    finally:
        consumer.close()
    print(f"consumed {seen} messages", file=sys.stderr)
    return 0 if seen == int(count) else 1


if __name__ == "__main__":
    sys.exit(main())
