// The transaction coordinator's view of a transactional id, through DescribeTransactions: a
// read-only question (it needs DESCRIBE on the id), unlike InitProducerId, which fences.
// Workaround of @platformatic/kafka 2.12.1, whose Admin has no call for DescribeTransactions: the
// request is sent on the asking client's own connections, reached through the internal symbols
// kGetBootstrapConnection and kGetConnection that the package exports. Remove it (for an Admin
// with the same credentials) once the Admin offers describeTransactions;
// test/kafka/library-workarounds.test.ts fails then, and if the symbols disappear.
import { promisify } from 'node:util';
import { describeTransactionsV0, findCoordinatorV6, FindCoordinatorKeyTypes, kGetBootstrapConnection, kGetConnection, ProtocolError, type Broker, type Connection } from '@platformatic/kafka';
import { errorIds } from './errors.ts';
import type { ProducerIdentity } from './transactional-producer.ts';

export interface TransactionState extends ProducerIdentity {
  /** Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, ... */
  state: string;
}

type Client = Record<symbol, (...args: unknown[]) => void>;

/** What the coordinator holds for `transactionalId`, asked through `client`'s connections; undefined if it knows nothing. */
export async function describeTransaction(client: object, transactionalId: string): Promise<TransactionState | undefined> {
  const c = client as unknown as Client;
  const bootstrap = await promisify<Connection>((cb) => c[kGetBootstrapConnection]!.call(client, cb))();
  const found = (await findCoordinatorV6.api.async(bootstrap, FindCoordinatorKeyTypes.TRANSACTION, [transactionalId])).coordinators[0];
  // Error codes make the call reject (a client error, retried as an outage). An answer without the
  // id is the coordinator not being there yet: said in the client's own terms, so that
  // classifyKafkaError calls it settling and the caller waits it out like the answer it stands for.
  if (found === undefined) throw new ProtocolError('COORDINATOR_NOT_AVAILABLE', `no transaction coordinator for ${transactionalId}`);
  const broker: Broker = { host: found.host, port: found.port };
  const connection = await promisify<Connection>((cb) => c[kGetConnection]!.call(client, broker, cb))();
  const response = await describeTransactionsV0.api.async(connection, [transactionalId]).catch((err: unknown) => {
    if (errorIds(err).includes('TRANSACTIONAL_ID_NOT_FOUND')) return undefined;
    throw err;
  });
  const described = response?.transactionStates[0];
  if (described === undefined) return undefined;
  return { state: described.transactionState, producerId: described.producerId, producerEpoch: described.producerEpoch };
}
