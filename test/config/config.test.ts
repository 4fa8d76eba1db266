import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Config, loadConfig, packageRoot } from '../../src/config/config.ts';
import { UsageError } from '../../src/errors.ts';
import { testEnv } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp.ts';

function confFile(text: string): string {
  const dir = tempDir('conf');
  const file = join(dir, 'fink.conf');
  writeFileSync(file, text);
  return file;
}

const NO_ENV = {};

describe('configuration', () => {
  it('uses the built-in defaults when nothing is set', () => {
    const config = loadConfig({ confFile: confFile(''), env: NO_ENV });
    assert.equal(config.get('DISTRIBUTION_SERVERS'), '127.0.0.1:9092');
    assert.equal(config.get('SUBSTREAM_PREFIX'), 'fink_');
    assert.equal(config.get('FINK_HOME'), packageRoot());
    assert.equal(config.get('SCIENCE_DB_PATH'), join(packageRoot(), 'var', 'science'));
    assert.equal(config.get('KAFKA_ADMIN_PASSWORD'), undefined);
    assert.equal(config.int('DISTRIBUTION_PARTITIONS'), 3);
  });

  it('takes a flag over the environment, the environment over the file, the file over the default', () => {
    const file = confFile('SUBSTREAM_PREFIX=file_\nDISTRIBUTION_PARTITIONS=5\nDISTRIBUTION_REPLICATION=2\n');
    const env = { SUBSTREAM_PREFIX: 'env_', DISTRIBUTION_PARTITIONS: '7' };
    const config = loadConfig({ confFile: file, env, flags: { SUBSTREAM_PREFIX: 'flag_' } });
    assert.equal(config.get('SUBSTREAM_PREFIX'), 'flag_');
    assert.equal(config.int('DISTRIBUTION_PARTITIONS'), 7);
    assert.equal(config.int('DISTRIBUTION_REPLICATION'), 2);
    assert.equal(config.get('KAFKA_SECURITY_PROTOCOL'), 'PLAINTEXT');
  });

  it('expands ${VAR} from other keys, then from the environment, and resolves paths against FINK_HOME', () => {
    const file = confFile('FINK_HOME=/srv/fink\nSCIENCE_DB_PATH=${FINK_HOME}/db/${NIGHT_SET}\nKAFKA_STATE_DIR=state\n');
    const config = loadConfig({ confFile: file, env: { NIGHT_SET: 'ztf' } });
    assert.equal(config.get('SCIENCE_DB_PATH'), '/srv/fink/db/ztf');
    assert.equal(config.get('KAFKA_STATE_DIR'), '/srv/fink/state');
    assert.equal(config.get('DISTRIBUTION_SCHEMA'), '/srv/fink/schemas/distribution_schema.avsc');
  });

  it('reads quoted values, comments and export prefixes as a shell would', () => {
    const file = confFile('# a comment\n\nexport SUBSTREAM_PREFIX="my fink_"\nKAFKA_ADMIN_USERNAME=root  # trailing\n');
    const config = loadConfig({ confFile: file, env: NO_ENV });
    assert.equal(config.get('SUBSTREAM_PREFIX'), 'my fink_');
    assert.equal(config.get('KAFKA_ADMIN_USERNAME'), 'root');
  });

  const errors: Array<[string, string, RegExp]> = [
    ['an unknown key', 'DISTRIBUTION_SERVER=x:1\n', /fink\.conf:1: unknown configuration key DISTRIBUTION_SERVER/],
    ['a number that is not one', 'DISTRIBUTION_PARTITIONS=three\n', /DISTRIBUTION_PARTITIONS=three \(.*fink\.conf:1\): expected a whole number/],
    ['a number out of range', 'DISTRIBUTION_REPLICATION=0\n', /DISTRIBUTION_REPLICATION=0 .*expected a number from 1/],
    ['a value outside its choices', 'KAFKA_SECURITY_PROTOCOL=SSL\n', /KAFKA_SECURITY_PROTOCOL=SSL .*expected one of PLAINTEXT, SASL_PLAINTEXT/],
    ['a line that is not KEY=value', 'just words\n', /fink\.conf:1: expected KEY=value/],
    ['a reference to nothing', 'SUBSTREAM_PREFIX=${NOT_SET_ANYWHERE}\n', /SUBSTREAM_PREFIX .*uses \$\{NOT_SET_ANYWHERE\}, which is not set/],
    ['a reference loop', 'SUBSTREAM_PREFIX=${KAFKA_VERSION}\nKAFKA_VERSION=${SUBSTREAM_PREFIX}\n', /refers to itself/],
  ];
  for (const [what, text, message] of errors) {
    it(`rejects ${what}, naming the key and the file`, () => {
      assert.throws(() => loadConfig({ confFile: confFile(text), env: NO_ENV }), (err: unknown) => {
        assert.ok(err instanceof UsageError);
        assert.equal(err.exitCode, 2);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('masks secrets when describing itself', () => {
    const config = loadConfig({ confFile: confFile('KAFKA_ADMIN_PASSWORD=s3cret-value\n'), env: NO_ENV });
    const text = config.describe().join('\n');
    assert.doesNotMatch(text, /s3cret-value/);
    assert.match(text, /KAFKA_ADMIN_PASSWORD=\*{8}/);
  });

  it('names a missing --conf file', () => {
    assert.throws(() => loadConfig({ confFile: '/nonexistent/fink.conf', env: NO_ENV }), /\/nonexistent\/fink\.conf does not exist/);
  });

  it('makes the commands exit 2 with one line naming the key and the file', () => {
    const file = confFile('NOT_A_KEY=1\n');
    const result = spawnSync(process.execPath, [join(packageRoot(), 'bin', 'fink_kafka.ts'), 'status'], {
      env: testEnv({ FINK_CONF: file }),
      encoding: 'utf8',
    });
    assert.equal(result.status, 2);
    assert.match(result.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:1: unknown configuration key NOT_A_KEY`));
  });
});

describe('configuration keys are typed', () => {
  it('reads a key of the table, and a name that is not one does not compile (npm run typecheck fails without the expect-error)', () => {
    const config = loadConfig({ env: { FINK_HOME: tempDir('keys') } });
    assert.equal(config.require('SUBSTREAM_PREFIX'), 'fink_');
    // @ts-expect-error DISTRIBUTION_SERVER is not a configuration key (DISTRIBUTION_SERVERS is)
    assert.equal(config.get('DISTRIBUTION_SERVER'), undefined);
  });
});

describe('enumerated and optional keys', () => {
  it('gives an enumerated key its value, typed by the table: a value outside it does not compile', () => {
    const config = loadConfig({ env: { FINK_HOME: tempDir('keys'), DISTRIBUTION_COMPRESSION: 'zstd' } });
    const compression: 'lz4' | 'zstd' | 'gzip' | 'snappy' | 'none' = config.enum('DISTRIBUTION_COMPRESSION');
    assert.equal(compression, 'zstd');
    // @ts-expect-error a compression is not an oversize policy
    const policy: 'stop' | 'skip' = config.enum('DISTRIBUTION_COMPRESSION');
    assert.equal(policy, 'zstd');
  });

  it('refuses, naming the key, an enumerated value that did not come through validation', () => {
    const config = new Config({ DISTRIBUTION_OVERSIZE: 'ignore' }, undefined);
    assert.throws(() => config.enum('DISTRIBUTION_OVERSIZE'), (err: unknown) => err instanceof UsageError && /DISTRIBUTION_OVERSIZE=ignore: expected one of stop, skip/.test(err.message));
  });

  it('does not compile an enumerated read of a key that is not enumerated', () => {
    const config = loadConfig({ env: { FINK_HOME: tempDir('keys') } });
    // @ts-expect-error SUBSTREAM_PREFIX is a free string
    assert.throws(() => config.enum('SUBSTREAM_PREFIX'), UsageError);
  });

  it('reads an unset whole-number key as undefined', () => {
    const config = loadConfig({ env: { FINK_HOME: tempDir('keys') } });
    assert.equal(config.optionalInt('DISTRIBUTION_METRICS_PORT'), undefined);
  });

  it('reads a set whole-number key as its number', () => {
    const config = loadConfig({ env: { FINK_HOME: tempDir('keys'), DISTRIBUTION_METRICS_PORT: '9464' } });
    assert.equal(config.optionalInt('DISTRIBUTION_METRICS_PORT'), 9464);
  });
});
