// Secured mode: SCRAM-SHA-512 users and ACLs, through the admin API with the super user's credentials.
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { AclOperations, AclPermissionTypes, Connection, ResourcePatternTypes, ResourceTypes, ScramMechanisms, alterUserScramCredentialsV0, protocolErrorsCodesById, type Acl, type AclOperationValue } from '@platformatic/kafka';
import { FinkError } from '../errors.ts';
import { closeQuietly, withAdmin } from '../kafka/client-options.ts';
import { clusterConnection, type ClusterSettings } from './settings.ts';

/** Characters that the broker's JAAS and StorageTool's --add-scram syntaxes cannot carry safely. */
export function checkPassword(what: string, password: string): void {
  if (password === '' || /["\\,[\]=\s]/.test(password)) {
    throw new FinkError(`${what}: a password must be non-empty and free of quotes, backslashes, commas, brackets, '=' and spaces`, { exitCode: 2, code: 'FINK_KAFKA' });
  }
}

const ITERATIONS = 4096;

// The admin client of @platformatic/kafka has no call for SCRAM users: the protocol's own request is
// sent on a connection authenticated as the super user, and the password salted here as RFC 5802 says.
async function alterScram(cluster: ClusterSettings, body: (connection: Connection) => Promise<alterUserScramCredentialsV0.AlterUserScramCredentialsResponse>) {
  const options = clusterConnection(cluster);
  const [host, port] = (options.bootstrapBrokers[0] as string).split(':');
  const connection = new Connection('fink_kafka', { ...(options.sasl === undefined ? {} : { sasl: options.sasl }), ...(options.tls === undefined ? {} : { tls: options.tls }) });
  try {
    await connection.connect(host as string, Number(port));
    const response = await body(connection);
    for (const r of response.results) {
      if (r.errorCode !== 0) throw new FinkError(`user ${r.user}: ${r.errorMessage ?? protocolErrorsCodesById[r.errorCode] ?? `error ${r.errorCode}`}`, { code: 'FINK_KAFKA' });
    }
  } finally {
    await closeQuietly(connection);
  }
}

export async function addScramUser(cluster: ClusterSettings, user: string, password: string): Promise<void> {
  checkPassword(`user ${user}`, password);
  const salt = randomBytes(32);
  const saltedPassword = pbkdf2Sync(password, salt, ITERATIONS, 64, 'sha512');
  await alterScram(cluster, (c) => alterUserScramCredentialsV0.api.async(c, [], [{ name: user, mechanism: ScramMechanisms.SCRAM_SHA_512, iterations: ITERATIONS, salt, saltedPassword }]));
}

export async function deleteScramUser(cluster: ClusterSettings, user: string): Promise<void> {
  await alterScram(cluster, (c) => alterUserScramCredentialsV0.api.async(c, [{ name: user, mechanism: ScramMechanisms.SCRAM_SHA_512 }], []));
}

export type Role = { consumer: string } | { producer: true };

/**
 * What ends the user's name in the transactional ids of the producer role: `alice` may use
 * `alice-...`. A producer's name may not contain it, so that no user's prefix covers another's
 * (without it, `fink` would cover `fink2`'s ids, and could fence `fink2`'s service).
 */
export const TRANSACTIONAL_ID_SEPARATOR = '-';

/** The prefix of the transactional ids that the producer role lets `user` use. */
export function transactionalIdPrefix(user: string): string {
  if (user.includes(TRANSACTIONAL_ID_SEPARATOR)) {
    throw new FinkError(`user ${user}: a producer's name may not contain '${TRANSACTIONAL_ID_SEPARATOR}', which ends the prefix of its transactional ids (${user}${TRANSACTIONAL_ID_SEPARATOR}...) and would let it use another user's`, 2);
  }
  return `${user}${TRANSACTIONAL_ID_SEPARATOR}`;
}

/**
 * The ACLs of a role: a consumer reads the topic and uses groups prefixed GROUP; a producer writes
 * it, transactionally too, with the transactional ids that start with `<user>-`.
 */
export function roleAcls(user: string, role: Role, topic: string): Acl[] {
  const allow = (resourceType: Acl['resourceType'], resourceName: string, resourcePatternType: Acl['resourcePatternType'], operation: AclOperationValue): Acl => ({
    resourceType, resourceName, resourcePatternType, operation, principal: `User:${user}`, host: '*', permissionType: AclPermissionTypes.ALLOW,
  });
  const { TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID } = ResourceTypes;
  const { LITERAL, PREFIXED } = ResourcePatternTypes;
  if ('consumer' in role) {
    return [allow(TOPIC, topic, LITERAL, AclOperations.READ), allow(TOPIC, topic, LITERAL, AclOperations.DESCRIBE), allow(GROUP, role.consumer, PREFIXED, AclOperations.READ)];
  }
  return [
    allow(TOPIC, topic, LITERAL, AclOperations.WRITE),
    allow(TOPIC, topic, LITERAL, AclOperations.DESCRIBE),
    allow(CLUSTER, 'kafka-cluster', LITERAL, AclOperations.IDEMPOTENT_WRITE),
    allow(TRANSACTIONAL_ID, transactionalIdPrefix(user), PREFIXED, AclOperations.WRITE),
    allow(TRANSACTIONAL_ID, transactionalIdPrefix(user), PREFIXED, AclOperations.DESCRIBE),
  ];
}

/**
 * What revoking a role removes: its ACLs, and for a producer also the transactional-id prefix
 * without separator that grants made before the separator was added gave.
 */
export function revokedAcls(user: string, role: Role, topic: string): Acl[] {
  const acls = roleAcls(user, role, topic);
  const older = acls.filter((a) => a.resourceType === ResourceTypes.TRANSACTIONAL_ID).map((a) => ({ ...a, resourceName: user }));
  return [...acls, ...older];
}

export async function grant(cluster: ClusterSettings, acls: Acl[]): Promise<void> {
  await withAdmin(clusterConnection(cluster), (admin) => admin.createAcls({ creations: acls }));
}

export async function revoke(cluster: ClusterSettings, acls: Acl[]): Promise<void> {
  await withAdmin(clusterConnection(cluster), (admin) => admin.deleteAcls({ filters: acls }));
}

const name = <T extends Record<string, number>>(table: T, value: number): string => Object.keys(table).find((k) => table[k] === value) ?? String(value);

export async function listAcls(cluster: ClusterSettings): Promise<string[]> {
  const resources = await withAdmin(clusterConnection(cluster), (admin) =>
    admin.describeAcls({
      filter: { resourceType: ResourceTypes.ANY, resourceName: null, resourcePatternType: ResourcePatternTypes.ANY, principal: null, host: null, operation: AclOperations.ANY, permissionType: AclPermissionTypes.ANY },
    }),
  );
  return resources.flatMap((r) =>
    r.acls.map((a) => `${a.principal} ${name(AclPermissionTypes, a.permissionType)} ${name(AclOperations, a.operation)} on ${name(ResourceTypes, r.resourceType)} ${r.resourceName} (${name(ResourcePatternTypes, r.resourcePatternType)})`),
  ).sort();
}
