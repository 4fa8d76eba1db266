"""Consumes a topic with fink-client's own AlertConsumer and prints one JSON line per alert.

Usage: fink_client_consume.py [--survey ztf|lsst] [--ca-file CA.pem] BOOTSTRAP TOPIC COUNT TIMEOUT_S [USERNAME PASSWORD]

With --ca-file, over TLS (SASL_SSL with the credentials), trusting that certificate authority:
fink-client's AlertConsumer passes no TLS settings of its own to confluent-kafka, so they are
added to the configuration that it builds (security.protocol, ssl.ca.location), as a user of a
cluster served over TLS would.

Each line holds the alert's identity (ztf: objectId and candid; lsst: diaSourceId, and the
diaObjectId of its diaSource; 64-bit ids as strings: all 64 bits), for lsst its three cutouts as
hex (null where absent), its top-level field names in order, and the SHA-256 of the alert
re-encoded by fastavro with the schema fink-client parsed from the key: equal to the SHA-256 of the
message value when the alert was decoded unchanged.
"""
import argparse
import hashlib
import io
import json
import sys
import time
import uuid

import fastavro
import fink_client.consumer
from fink_client.consumer import AlertConsumer

CUTOUTS = ("cutoutDifference", "cutoutScience", "cutoutTemplate")


def identity(survey: str, alert: dict) -> dict:
    if survey == "lsst":
        dia_object_id = alert["diaSource"]["diaObjectId"]
        return {
            "diaSourceId": str(alert["diaSourceId"]),
            "diaObjectId": None if dia_object_id is None else str(dia_object_id),
            "cutouts": [None if alert[c] is None else alert[c].hex() for c in CUTOUTS],
        }
    return {"objectId": alert["objectId"], "candid": str(alert["candid"])}


def over_tls(ca_file: str) -> None:
    """Makes every consumer that fink-client configures connect over TLS, trusting ca_file."""
    build = fink_client.consumer._get_kafka_config

    def with_tls(config: dict) -> dict:
        kafka_config = build(config)
        protocol = "SASL_SSL" if "sasl.username" in kafka_config else "SSL"
        kafka_config.update({"security.protocol": protocol, "ssl.ca.location": ca_file})
        return kafka_config

    fink_client.consumer._get_kafka_config = with_tls


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--survey", choices=("ztf", "lsst"), default="ztf")
    parser.add_argument("--ca-file")
    parser.add_argument("bootstrap")
    parser.add_argument("topic")
    parser.add_argument("count", type=int)
    parser.add_argument("timeout", type=float)
    parser.add_argument("credentials", nargs="*")
    args = parser.parse_args()
    if args.ca_file is not None:
        over_tls(args.ca_file)
    config = {"bootstrap.servers": args.bootstrap, "group.id": "fink-client-interop-" + uuid.uuid4().hex}
    if len(args.credentials) == 2:
        config["username"], config["password"] = args.credentials
    consumer = AlertConsumer([args.topic], config, survey=args.survey)
    seen = 0
    deadline = time.time() + args.timeout
    try:
        while seen < args.count and time.time() < deadline:
            got_topic, alert, key = consumer.poll(1.0)
            if alert is None:
                continue
            schema = fastavro.parse_schema(json.loads(key))
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, schema, alert)
            print(json.dumps({
                "topic": got_topic,
                **identity(args.survey, alert),
                "fields": list(alert.keys()),
                "sha256": hashlib.sha256(buf.getvalue()).hexdigest(),
            }), flush=True)
            seen += 1
    finally:
        consumer.close()
    print(f"consumed {seen} alerts", file=sys.stderr)
    return 0 if seen == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
