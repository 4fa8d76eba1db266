// The TLS material of a managed cluster in SASL_SSL mode: a certificate authority and a broker
// certificate that it signs, made once with the JDK's keytool in the state folder's tls/ (PKCS12
// keystores readable by their owner only) and reused at every start; or the operator's keystore and
// CA file (KAFKA_SSL_KEYSTORE_FILE, KAFKA_SSL_CA_FILE). The clients trust the CA file (PEM).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { FinkError } from '../errors.ts';
import { masked } from '../printable.ts';
import { privateFolder, replaceFile } from '../files.ts';
import { requireTool } from './provision.ts';
import type { ClusterSettings } from './settings.ts';

/** What a node's TLS listener is configured with (server-properties.ts). */
export interface BrokerTls {
  keystore: string;
  /** The keystore's and its key's. */
  keystorePassword: string;
  /** What the brokers trust when they connect to each other: a PKCS12 truststore, or the CA's PEM file. */
  truststore: string;
  truststoreType: 'PKCS12' | 'PEM';
  truststorePassword?: string;
}

const GENERATED = {
  ca: 'ca.p12',
  caPem: 'ca.pem',
  keystore: 'broker.p12',
  truststore: 'truststore.p12',
  password: 'store.password',
  /** The host that the broker certificate names beside 127.0.0.1 and localhost. */
  host: 'host',
} as const;

/** Where the generated material lives. */
const tlsFolder = (stateDir: string) => join(stateDir, 'tls');

/** The CA file (PEM) that the clients of `cluster` trust: the generated one, or the operator's. */
export function clientCaFile(cluster: Pick<ClusterSettings, 'stateDir' | 'tls'>): string | undefined {
  if (cluster.tls === undefined) return undefined;
  return cluster.tls.keystore === undefined ? join(tlsFolder(cluster.stateDir), GENERATED.caPem) : cluster.tls.client.caFile;
}

/** The subject alternative names of the broker certificate: what the clients may connect to. */
export function subjectAltNames(host: string): string {
  const names = ['ip:127.0.0.1', 'dns:localhost', `${isIP(host) === 0 ? 'dns' : 'ip'}:${host}`];
  return [...new Set(names)].join(',');
}

/** Runs keytool with the stores' password in its environment: on its command line, ps would show it. */
function keytool(args: string[], password: string, cwd: string): void {
  const run = spawnSync('keytool', [...args, '-storepass:env', 'FINK_STOREPASS'], { cwd, encoding: 'utf8', env: { ...process.env, FINK_STOREPASS: password } });
  if (run.error !== undefined || run.status !== 0) {
    const output = masked(`${run.stdout ?? ''}${run.stderr ?? ''}`, [password]).trim();
    throw new FinkError(`keytool ${args[0]} failed while making the cluster's TLS certificates (exit ${run.status ?? run.error?.message}):\n${output}`, { code: 'FINK_KAFKA' });
  }
}

/** Makes the CA, the broker keystore and the truststore in `dir` (a new, private folder). */
function generate(dir: string, host: string, password: string): void {
  const days = ['-validity', '3650'];
  const pkcs12 = ['-storetype', 'PKCS12', '-keyalg', 'RSA', '-keysize', '3072'];
  keytool(['-genkeypair', '-alias', 'ca', '-dname', 'CN=fink-distribution cluster CA', '-ext', 'bc:c', '-ext', 'KU=keyCertSign,cRLSign', ...pkcs12, ...days, '-keystore', GENERATED.ca], password, dir);
  keytool(['-exportcert', '-rfc', '-alias', 'ca', '-keystore', GENERATED.ca, '-file', GENERATED.caPem], password, dir);
  const san = `SAN=${subjectAltNames(host)}`;
  keytool(['-genkeypair', '-alias', 'broker', '-dname', `CN=${host}`, '-ext', san, ...pkcs12, ...days, '-keystore', GENERATED.keystore], password, dir);
  keytool(['-certreq', '-alias', 'broker', '-keystore', GENERATED.keystore, '-file', 'broker.csr'], password, dir);
  keytool(['-gencert', '-rfc', '-alias', 'ca', '-keystore', GENERATED.ca, '-infile', 'broker.csr', '-outfile', 'broker.pem', '-ext', san, '-ext', 'KU=digitalSignature,keyEncipherment', '-ext', 'EKU=serverAuth,clientAuth', ...days], password, dir);
  keytool(['-importcert', '-noprompt', '-alias', 'ca', '-file', GENERATED.caPem, '-keystore', GENERATED.keystore], password, dir);
  keytool(['-importcert', '-alias', 'broker', '-file', 'broker.pem', '-keystore', GENERATED.keystore], password, dir);
  keytool(['-importcert', '-noprompt', '-alias', 'ca', '-file', GENERATED.caPem, '-storetype', 'PKCS12', '-keystore', GENERATED.truststore], password, dir);
  for (const f of ['broker.csr', 'broker.pem']) rmSync(join(dir, f));
  replaceFile(join(dir, GENERATED.host), `${host}\n`, 0o600);
}

/**
 * The generated material of the cluster under `stateDir` for `host`: made on the first start (in a
 * folder of its own, renamed into place once complete, so that a failure half-way leaves nothing),
 * reused afterwards. A broker certificate made for another host is not silently replaced: the
 * clients hold its CA.
 */
function generatedTls(stateDir: string, host: string, log: (line: string) => void): BrokerTls {
  const dir = tlsFolder(stateDir);
  if (!existsSync(join(dir, GENERATED.host))) {
    requireTool('keytool', "to make the cluster's TLS certificates (it comes with Java)", ', or name your own with KAFKA_SSL_KEYSTORE_FILE');
    const building = `${dir}.${randomBytes(4).toString('hex')}.new`;
    privateFolder(building);
    try {
      const password = randomBytes(24).toString('hex');
      replaceFile(join(building, GENERATED.password), `${password}\n`, 0o600);
      generate(building, host, password);
      for (const f of readdirSync(building)) chmodSync(join(building, f), 0o600);
      rmSync(dir, { recursive: true, force: true });
      renameSync(building, dir);
    } finally {
      rmSync(building, { recursive: true, force: true });
    }
    log(`made the cluster's certificate authority and broker certificate (for 127.0.0.1, localhost and ${host}) in ${dir}`);
  }
  const made = readFileSync(join(dir, GENERATED.host), 'utf8').trim();
  if (made !== host) {
    throw new FinkError(`the broker certificate in ${dir} was made for ${made}, not ${host}: remove ${dir} to make a new CA and certificate (the clients then need the new ${GENERATED.caPem}), or name your own with KAFKA_SSL_KEYSTORE_FILE`, { code: 'FINK_KAFKA' });
  }
  const password = readFileSync(join(dir, GENERATED.password), 'utf8').trim();
  return { keystore: join(dir, GENERATED.keystore), keystorePassword: password, truststore: join(dir, GENERATED.truststore), truststoreType: 'PKCS12', truststorePassword: password };
}

/** The TLS material of the nodes of `cluster` (in SASL_SSL mode), whose client listeners are on `host`. */
export function brokerTls(cluster: ClusterSettings, host: string, log: (line: string) => void): BrokerTls | undefined {
  const tls = cluster.tls;
  if (tls === undefined) return undefined;
  if (tls.keystore === undefined) return generatedTls(cluster.stateDir, host, log);
  const caFile = tls.client.caFile as string;
  for (const [key, file] of [['KAFKA_SSL_KEYSTORE_FILE', tls.keystore.file], ['KAFKA_SSL_CA_FILE', caFile]] as const) {
    if (!existsSync(file)) throw new FinkError(`${key}: ${file} does not exist`, { exitCode: 2, code: 'FINK_KAFKA' });
  }
  return { keystore: tls.keystore.file, keystorePassword: tls.keystore.password, truststore: caFile, truststoreType: 'PEM' };
}
