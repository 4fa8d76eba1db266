// The walker over nested client errors and the classifier of Kafka failures, on errors built from
// @platformatic/kafka's own classes nested the way its connections and clients nest them; no broker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticationError, MultipleErrors, NetworkError, ProtocolError, protocolErrors, ResponseError, TimeoutError, UserError } from '@platformatic/kafka';
import { classifyKafkaError, clientCodes, errorIds, isUnknownTopic, isUnreachable, rootCauses, walkErrors } from '../../src/kafka/errors.ts';

/** A broker's answer to one API call: a ResponseError holding one ProtocolError per id. */
function answer(...ids: string[]): ResponseError {
  const errors = Object.fromEntries(ids.map((id, i) => [`/topics/${i}`, [protocolErrors[id]!.code, null] as [number, null]]));
  return new ResponseError(0, 0, errors, {});
}

/** What a client call rejects with after its retries: an aggregate of its attempts. */
function attempts(...errors: Error[]): MultipleErrors {
  return new MultipleErrors('Cannot complete the operation.', errors);
}

/** A connection that failed because of `cause`. */
function connectionFailed(cause: Error): NetworkError {
  return new NetworkError('Connection to localhost:9092 failed.', { cause });
}

function chain(depth: number): Error {
  let e = new Error('innermost');
  for (let i = 0; i < depth; i++) e = new Error(`level ${depth - 1 - i}`, { cause: e });
  return e;
}

test('the walker visits the error, its aggregate and its causes, parents first, with their depth', () => {
  const inner = new Error('inner');
  const err = new AggregateError([new Error('a', { cause: inner }), new Error('b')], 'top');
  const seen: [string, number][] = [];
  walkErrors(err, (e, depth) => seen.push([(e as Error).message, depth]));
  assert.deepEqual(seen, [['top', 0], ['a', 1], ['inner', 2], ['b', 1]]);
});

test('the walker stops at its depth limit', () => {
  const depths: number[] = [];
  walkErrors(chain(10), (_e, depth) => depths.push(depth), 3);
  assert.deepEqual(depths, [0, 1, 2, 3]);
});

test('the walker visits each error of a cycle once', () => {
  const a = new Error('a');
  const b = new Error('b', { cause: a });
  (a as { cause?: unknown }).cause = b;
  const seen: string[] = [];
  walkErrors(new AggregateError([a, b, a], 'top'), (e) => seen.push((e as Error).message));
  assert.deepEqual(seen, ['top', 'a', 'b']);
});

test('the walker skips what is not an object: a string cause, a null in an aggregate', () => {
  const seen: string[] = [];
  walkErrors(new AggregateError([null, 'text'], 'top', { cause: 'why' }), (e) => seen.push((e as Error).message));
  assert.deepEqual(seen, ['top']);
});

test('errorIds gathers the broker answers inside nested client errors', () => {
  assert.deepEqual(errorIds(attempts(answer('NOT_COORDINATOR'), answer('PRODUCER_FENCED'))), ['NOT_COORDINATOR', 'PRODUCER_FENCED']);
});

test('rootCauses are the innermost messages, once each', () => {
  const refused = new Error('connect ECONNREFUSED 127.0.0.1:9092');
  assert.deepEqual(rootCauses(attempts(connectionFailed(refused), connectionFailed(refused))), ['connect ECONNREFUSED 127.0.0.1:9092']);
});

test('rootCauses of an error in a cycle is its own message', () => {
  const a = new Error('loop');
  (a as { cause?: unknown }).cause = a;
  assert.deepEqual(rootCauses(a), ['loop']);
});

test('rootCauses of a chain deeper than the walk ends at the deepest error it reaches', () => {
  assert.deepEqual(rootCauses(chain(10)), ['level 5']);
});

test('clientCodes lists the client codes anywhere inside an error', () => {
  assert.deepEqual(clientCodes(attempts(connectionFailed(new Error('x')))), ['PLT_KFK_MULTIPLE', 'PLT_KFK_NETWORK']);
});

test('an error that is not the client\'s is not classified', () => {
  assert.equal(classifyKafkaError(new Error('a bug')), undefined);
  assert.equal(classifyKafkaError(new AggregateError([connectionFailed(new Error('x'))])), undefined);
  assert.equal(classifyKafkaError(undefined), undefined);
});

test('a broker refusing the SASL credentials is authentication', () => {
  // As the connection reports a SaslAuthenticate answer of SASL_AUTHENTICATION_FAILED.
  const err = attempts(connectionFailed(new AuthenticationError('SASL authentication failed.', { cause: answer('SASL_AUTHENTICATION_FAILED') })));
  assert.equal(classifyKafkaError(err), 'authentication');
});

test('the client refusing the broker\'s side of a SCRAM handshake is authentication', () => {
  assert.equal(classifyKafkaError(connectionFailed(new AuthenticationError('Invalid server signature.'))), 'authentication');
});

test('a newer producer of the same transactional id is fenced', () => {
  assert.equal(classifyKafkaError(attempts(answer('PRODUCER_FENCED'))), 'fenced');
  assert.equal(classifyKafkaError(answer('INVALID_PRODUCER_EPOCH')), 'fenced');
  assert.equal(classifyKafkaError(answer('TRANSACTIONAL_ID_AUTHORIZATION_FAILED')), 'fenced');
});

test('a right the user lacks is unauthorized', () => {
  assert.equal(classifyKafkaError(answer('TOPIC_AUTHORIZATION_FAILED')), 'unauthorized');
  assert.equal(classifyKafkaError(attempts(answer('CLUSTER_AUTHORIZATION_FAILED'))), 'unauthorized');
});

test('a coordinator being elected or loading is settling', () => {
  assert.equal(classifyKafkaError(attempts(answer('COORDINATOR_LOAD_IN_PROGRESS'), answer('NOT_COORDINATOR'))), 'settling');
  assert.equal(classifyKafkaError(new ProtocolError('COORDINATOR_NOT_AVAILABLE', 'no transaction coordinator for t')), 'settling');
});

test('a settling coordinator beside another answer is answered', () => {
  assert.equal(classifyKafkaError(attempts(answer('NOT_COORDINATOR'), answer('UNKNOWN_SERVER_ERROR'))), 'answered');
});

test('any other broker answer is answered', () => {
  assert.equal(classifyKafkaError(answer('TRANSACTION_ABORTABLE')), 'answered');
});

test('no broker answering at all is unreachable', () => {
  const err = attempts(connectionFailed(new Error('connect ECONNREFUSED 127.0.0.1:9092')), new TimeoutError('Connection timeout.'));
  assert.equal(classifyKafkaError(err), 'unreachable');
  assert.equal(isUnreachable(err), true);
});

test('the client refusing a call itself is refused, not unreachable', () => {
  const err = attempts(new UserError('Unknown topic alerts.'));
  assert.equal(classifyKafkaError(err), 'refused');
  assert.equal(isUnreachable(err), false);
});

test('an unknown topic is told by the broker\'s answer or by the client\'s own check', () => {
  assert.equal(isUnknownTopic(attempts(answer('UNKNOWN_TOPIC_OR_PARTITION'))), true);
  assert.equal(isUnknownTopic(attempts(new UserError('Unknown topic alerts.'))), true);
  assert.equal(isUnknownTopic(new UserError('Unknown partition.')), false);
  assert.equal(isUnknownTopic(new Error('Unknown topic alerts.')), false);
});
