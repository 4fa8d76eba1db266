import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { exactlyOnce } from '../helpers/host-cluster.ts';
import { canMakeHosts, links, makeHosts, namespaces, type Host, type TestHosts } from '../helpers/hosts.ts';

// The helper that the multi-host tests stand on: hosts that reach each other over their bridge only,
// a link cut and restored, and nothing left behind.

/** A TCP listener in `host` on `port`, answering 'hello from <address>' to every connection. */
function listen(hosts: TestHosts, host: Host, port: number) {
  const script = `require('node:net').createServer((s) => s.end('hello from ${host.address}\\n')).listen(${port}, '0.0.0.0', () => console.log('listening'))`;
  return hosts.spawn(host, process.execPath, ['-e', script]);
}

/** What a connection from `from` to address:port reads, or the error it meets within 3 s. */
function connect(hosts: TestHosts, from: Host, address: string, port: number): string {
  const script = `const s = require('node:net').connect(${port}, '${address}'); let d = ''; s.setTimeout(3000, () => { console.log('timeout'); process.exit(0); }); s.on('data', (b) => d += b); s.on('end', () => { console.log(d.trim()); process.exit(0); }); s.on('error', (e) => { console.log(e.code); process.exit(0); });`;
  const run = hosts.run(from, process.execPath, ['-e', script]);
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.trim();
}

describe('test hosts (network namespaces on a bridge)', { timeout: 300_000 }, () => {
  let hosts: TestHosts | undefined;
  after(() => hosts?.remove());

  it('gives each host its own address on a private /24, reached from the other hosts over the bridge', async (t) => {
    if (!canMakeHosts(t)) return;
    hosts = makeHosts(3);
    const [a, b, c] = hosts.hosts as [Host, Host, Host];
    assert.match(hosts.subnet, /^10\.\d+\.\d+\.0\/24$/);
    assert.equal(new Set(hosts.hosts.map((h) => h.address)).size, 3);
    for (const h of hosts.hosts) assert.ok(namespaces().includes(h.netns), h.netns);
    const server = listen(hosts, a, 7000);
    await server.waitForOutput(/listening/, 'the listener in host 0');
    assert.equal(connect(hosts, b, a.address, 7000), `hello from ${a.address}`);
    assert.equal(connect(hosts, c, a.address, 7000), `hello from ${a.address}`);
    // Each host has its own ports: the same port is free in another host.
    const other = listen(hosts, b, 7000);
    await other.waitForOutput(/listening/, 'the listener in host 1 on the same port');
    assert.equal(connect(hosts, c, b.address, 7000), `hello from ${b.address}`);
  });

  it('keeps the hosts off the machine: the bridge has no address, a host has the route of its link only', (t) => {
    if (hosts === undefined) return void t.skip('no hosts (the first test did not make them)');
    const shown = spawnSync('ip', ['-o', 'addr', 'show', 'dev', hosts.bridge], { encoding: 'utf8' });
    assert.doesNotMatch(shown.stdout, /inet /);
    const routes = spawnSync('ip', ['-n', hosts.hosts[0]!.netns, 'route'], { encoding: 'utf8' });
    assert.deepEqual(routes.stdout.trim().split('\n').map((l) => l.split(' ')[0]), [hosts.subnet], 'a host has its link\'s route only, no default route');
  });

  it('cuts a host off the network and reconnects it', async (t) => {
    if (hosts === undefined) return void t.skip('no hosts (the first test did not make them)');
    const [a, b] = hosts.hosts as [Host, Host];
    hosts.cut(a);
    assert.notEqual(connect(hosts, b, a.address, 7000), `hello from ${a.address}`);
    hosts.restore(a);
    assert.equal(connect(hosts, b, a.address, 7000), `hello from ${a.address}`);
  });

  it('runs the project\'s commands in a host, and kills a child there', async (t) => {
    if (hosts === undefined) return void t.skip('no hosts (the first test did not make them)');
    const [, , c] = hosts.hosts as [Host, Host, Host];
    const help = hosts.spawnCli(c, 'fink_kafka', ['--help'], {});
    assert.equal(await help.exited, 0, help.output());
    assert.match(help.output(), /^usage: fink_kafka/);
    const listener = listen(hosts, c, 7001);
    await listener.waitForOutput(/listening/, 'the listener in host 2');
    const pid = listener.child.pid as number;
    assert.equal(await listener.kill(), null, 'ended by the signal');
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
    assert.notEqual(connect(hosts, hosts.hosts[0]!, c.address, 7001), `hello from ${c.address}`);
  });

  it('removes every namespace, link and process it made, and cleans up what a killed run left', async (t) => {
    if (hosts === undefined) return void t.skip('no hosts (the first test did not make them)');
    const names = hosts.names();
    const pids = hosts.hosts.flatMap((h) => spawnSync('ip', ['netns', 'pids', h.netns], { encoding: 'utf8' }).stdout.split('\n').filter((p) => p !== '').map(Number));
    assert.ok(pids.length >= 2, 'the listeners run in the hosts');
    await hosts.remove();
    hosts = undefined;
    const left = [...namespaces(), ...links()];
    assert.deepEqual(names.filter((n) => left.includes(n)), []);
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `process ${pid} is gone`);

    // A run killed before its after-hook: names under a pid that no longer runs.
    const dead = spawnSync('true').pid as number;
    const stale = `fkh${dead}zn0`;
    spawnSync('ip', ['netns', 'add', stale]);
    spawnSync('ip', ['link', 'add', `fkh${dead}zb`, 'type', 'bridge']);
    assert.ok(namespaces().includes(stale));
    const next = makeHosts(1);
    try {
      assert.ok(!namespaces().includes(stale), 'the stale namespace is gone');
      assert.ok(!links().includes(`fkh${dead}zb`), 'the stale bridge is gone');
    } finally {
      await next.remove();
    }
  });
});

describe('the fault tests\' tally (exactlyOnce)', () => {
  it('names what is missing, what is doubled and how often, and what was never written', () => {
    const tally = exactlyOnce(['a', 'b', 'b', 'd', 'c', 'c', 'c'], ['a', 'b', 'c', 'e']);
    assert.deepEqual(tally, { missing: ['e'], doubled: ['b x2', 'c x3'], unexpected: ['d'] });
    assert.deepEqual(exactlyOnce(['b', 'a'], ['a', 'b']), { missing: [], doubled: [], unexpected: [] });
  });
});
