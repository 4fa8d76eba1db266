// Which partition an object's messages go to: Kafka's own default (murmur2 of the key, as Java's
// producer computes it), so that the science log and the community topics place an object alike
// and any Kafka client computes the same partition from the key.
import { murmur2 } from '@platformatic/kafka';

/** The partition of an object's alerts (by its objectKey): every partition is used, and one object's alerts stay in order. */
export function partitionOf(objectKey: string, partitions: number): number {
  return (murmur2(objectKey) & 0x7fffffff) % partitions;
}
