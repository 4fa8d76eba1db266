"""Consumes a topic with fink-client's own AlertConsumer and prints one JSON line per alert.

Usage: fink_client_consume.py BOOTSTRAP TOPIC COUNT TIMEOUT_S [USERNAME PASSWORD]

Each line holds the alert's objectId, candid (as a string: all 64 bits), its top-level field names
in order, and the SHA-256 of the alert re-encoded by fastavro with the schema fink-client parsed
from the key: equal to the SHA-256 of the message value when the alert was decoded unchanged.
"""
import hashlib
import io
import json
import sys
import time
import uuid

import fastavro
from fink_client.consumer import AlertConsumer


def main() -> int:
    bootstrap, topic, count, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    config = {"bootstrap.servers": bootstrap, "group.id": "fink-client-interop-" + uuid.uuid4().hex}
    if len(sys.argv) > 6:
        config["username"], config["password"] = sys.argv[5], sys.argv[6]
    consumer = AlertConsumer([topic], config, survey="ztf")
    seen = 0
    deadline = time.time() + timeout
    try:
        while seen < count and time.time() < deadline:
            got_topic, alert, key = consumer.poll(1.0)
            if alert is None:
                continue
            schema = fastavro.parse_schema(json.loads(key))
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, schema, alert)
            print(json.dumps({
                "topic": got_topic,
                "objectId": alert["objectId"],
                "candid": str(alert["candid"]),
                "fields": list(alert.keys()),
                "sha256": hashlib.sha256(buf.getvalue()).hexdigest(),
            }), flush=True)
            seen += 1
    finally:
        consumer.close()
    print(f"consumed {seen} alerts", file=sys.stderr)
    return 0 if seen == count else 1


if __name__ == "__main__":
    sys.exit(main())
