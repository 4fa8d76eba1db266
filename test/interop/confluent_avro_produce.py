"""Produces the alerts of Avro container files with confluent-kafka's own AvroSerializer, against a
schema registry, as Rubin's alert system does (Confluent wire format, subject <topic>-value).

Usage: confluent_avro_produce.py BOOTSTRAP REGISTRY_URL TOPIC [--copies N] FILE...

Every alert of every file goes to TOPIC, serialized with its file's writer schema (the schema text
given to the serializer is the file's header, as json.dumps writes it). With --copies N, each alert
goes N times, the n-th alert sent (counted from 0 over all files) with its diaSourceId (top level
and in diaSource) raised by n * COPY_STRIDE: a stream of distinct alerts from samples that share an id. Prints one JSON line per
file: the subject and the schema text that the serializer registered, with the id it got.
"""
import json
import sys

import fastavro
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext


COPY_STRIDE = 1_000_003


def shifted(record: dict, n: int) -> dict:
    copy = dict(record)
    if "diaSourceId" in copy:
        copy["diaSourceId"] = record["diaSourceId"] + n * COPY_STRIDE
    if isinstance(copy.get("diaSource"), dict) and "diaSourceId" in copy["diaSource"]:
        copy["diaSource"] = dict(copy["diaSource"], diaSourceId=record["diaSource"]["diaSourceId"] + n * COPY_STRIDE)
    return copy


def main() -> None:
    bootstrap, registry_url, topic, *files = sys.argv[1:]
    copies = 1
    if files[:1] == ["--copies"]:
        copies, files = int(files[1]), files[2:]
    sent = 0
    registry = SchemaRegistryClient({"url": registry_url})
    producer = Producer({"bootstrap.servers": bootstrap, "message.max.bytes": 10485760})
    context = SerializationContext(topic, MessageField.VALUE)
    errors = []

    def delivered(error, _message):
        if error is not None:
            errors.append(str(error))

    for path in files:
        with open(path, "rb") as f:
            reader = fastavro.reader(f)
            schema_text = json.dumps(reader.writer_schema)
            records = list(reader)
        serializer = AvroSerializer(registry, schema_text)
        for record in records:
            for _ in range(copies):
                value = record if copies == 1 else shifted(record, sent)
                producer.produce(topic, value=serializer(value, context), on_delivery=delivered)
                producer.poll(0)
                sent += 1
        registered = registry.get_latest_version(f"{topic}-value")
        print(json.dumps({"file": path, "subject": f"{topic}-value", "id": registered.schema_id, "schema": registered.schema.schema_str}))
    if producer.flush(60) != 0:
        sys.exit("messages left unsent after 60 s")
    if errors:
        sys.exit(f"{len(errors)} messages not delivered: {errors[0]}")


if __name__ == "__main__":
    main()
