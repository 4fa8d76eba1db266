"""Produces the alerts of Avro container files with confluent-kafka's own AvroSerializer, against a
schema registry, as Rubin's alert system does (Confluent wire format, subject <topic>-value).

Usage: confluent_avro_produce.py BOOTSTRAP REGISTRY_URL TOPIC FILE...

Every alert of every file goes to TOPIC, serialized with its file's writer schema (the schema text
given to the serializer is the file's header, as json.dumps writes it). Prints one JSON line per
file: the subject and the schema text that the serializer registered, with the id it got.
"""
import json
import sys

import fastavro
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext


def main() -> None:
    bootstrap, registry_url, topic, *files = sys.argv[1:]
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
            producer.produce(topic, value=serializer(record, context), on_delivery=delivered)
        registered = registry.get_latest_version(f"{topic}-value")
        print(json.dumps({"file": path, "subject": f"{topic}-value", "id": registered.schema_id, "schema": registered.schema.schema_str}))
    if producer.flush(60) != 0:
        sys.exit("messages left unsent after 60 s")
    if errors:
        sys.exit(f"{len(errors)} messages not delivered: {errors[0]}")


if __name__ == "__main__":
    main()
