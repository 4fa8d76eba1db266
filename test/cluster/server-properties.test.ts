import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nodeLayout } from '../../src/cluster/layout.ts';
import { LOG4J2, securityProperties, serverProperties } from '../../src/cluster/server-properties.ts';

const placement = { servers: ['127.0.0.1:9092'], stateDir: '/state', keys: { servers: 'DISTRIBUTION_SERVERS', stateDir: 'KAFKA_STATE_DIR' } as const };
const nodes = (n: number) => Array.from({ length: n }, (_, i) => nodeLayout(placement, i));
const lines = (text: string) => text.split('\n');
const MB = 1024 * 1024;

describe('a managed node\'s server.properties', () => {
  it('gives a single node a dynamic quorum of its own controller', () => {
    const [only] = nodes(1);
    assert.ok(lines(serverProperties(only!, 0, nodes(1), undefined, 10 * MB)).includes('controller.quorum.bootstrap.servers=127.0.0.1:9093'));
  });

  it('gives several nodes a static quorum of every node', () => {
    const all = nodes(3);
    const text = lines(serverProperties(all[1]!, 1, all, undefined, 10 * MB));
    assert.ok(text.includes('node.id=2'));
    assert.ok(text.includes('controller.quorum.voters=1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097'));
    assert.ok(text.includes('transaction.state.log.min.isr=2'));
  });

  it('gives nodes spread over hosts a static quorum of every node\'s own host, and a controller listener there', () => {
    const spread = { ...placement, servers: ['10.9.0.1:9092', '10.9.0.2:9092', '10.9.0.3:9092'] };
    const all = Array.from({ length: 3 }, (_, i) => nodeLayout(spread, i, 3));
    const text = lines(serverProperties(all[2]!, 2, all, undefined, 10 * MB));
    assert.ok(text.includes('node.id=3'));
    assert.ok(text.includes('controller.quorum.voters=1@10.9.0.1:9093,2@10.9.0.2:9093,3@10.9.0.3:9093'));
    assert.ok(text.includes('listeners=PLAINTEXT://10.9.0.3:9092,CONTROLLER://10.9.0.3:9093'));
    assert.ok(text.includes('advertised.listeners=PLAINTEXT://10.9.0.3:9092'));
  });

  it('accepts messages up to the largest alert, and replicas fetch them in one request', () => {
    const [only] = nodes(1);
    const text = lines(serverProperties(only!, 0, nodes(1), undefined, 2 * MB));
    assert.ok(text.includes(`message.max.bytes=${2 * MB}`));
    assert.ok(text.includes(`replica.fetch.max.bytes=${2 * MB}`));
    assert.ok(text.includes(`replica.fetch.response.max.bytes=${10 * MB}`));
  });

  it('aborts the transaction of a producer that died within a second of its timeout (read_committed readers wait on it)', () => {
    const [only] = nodes(1);
    assert.ok(lines(serverProperties(only!, 0, nodes(1), undefined, 10 * MB)).includes('transaction.abort.timed.out.transaction.cleanup.interval.ms=1000'));
  });

  it('lets no client in unauthenticated in secured mode, the super user named', () => {
    const text = securityProperties({ admin: 'root', password: 'pw', controllerSecret: 'cs' });
    assert.ok(text.includes('listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT'));
    assert.ok(text.includes('allow.everyone.if.no.acl.found=false'));
    assert.ok(text.includes('super.users=User:root'));
  });

  it('has no SASL line in PLAINTEXT mode', () => {
    assert.deepEqual(securityProperties(undefined).filter((l) => /sasl|super/.test(l)), []);
  });

  it('sends Kafka\'s own log to the node\'s log file', () => {
    assert.ok(lines(LOG4J2('/state/node-0/kafka.log')).includes('appender.file.fileName = /state/node-0/kafka.log'));
  });
});
