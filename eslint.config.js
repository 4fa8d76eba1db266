// Flat config (ESLint 9): typescript-eslint's recommended rules on the TypeScript sources (syntactic
// only: no rule here reads the type checker, `npm run typecheck` does that), the recommended sets
// otherwise, no function of the product over 100 lines, and the rule that keeps the rooms of the
// flow in order (docs/architecture.md): a room under src/ imports only the rooms before it, never
// one after it, and the two ends of the stream (distribution, consumer) never import each other.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The rooms, in the order of the flow; each may use those listed before it (and shared helpers). */
const ROOMS = {
  config: [],
  avro: ['config'],
  alert: ['config', 'avro'],
  // The Kafka client: options, the read_committed reader, transactional sessions, record batches.
  kafka: ['config'],
  // The managed clusters: provisioning, properties, processes, security, the registry (fink_kafka's side).
  cluster: ['config', 'kafka'],
  // The store: SQLite nights on one host, or the science log on the cluster (SCIENCE_STORE=kafka).
  sciencedb: ['config', 'avro', 'alert', 'kafka'],
  // What both long-running services share: one instance, signals, metrics, outages, progress.
  service: ['config', 'kafka', 'sciencedb'],
  // User filters: their conditions parsed, checked and compiled over an alert's typed fields; their registrations (a compacted topic).
  userfilter: ['config', 'alert', 'kafka'],
  distribution: ['config', 'avro', 'alert', 'kafka', 'cluster', 'sciencedb', 'service', 'userfilter'],
  // stream2science: the survey's stream into the science database (no other room uses it).
  upstream: ['config', 'avro', 'alert', 'kafka', 'sciencedb', 'service'],
  // The survey's side of the live chain: replays alerts on the simulator cluster.
  simulator: ['config', 'avro', 'alert', 'kafka', 'cluster', 'sciencedb'],
  // Reads topics back as any consumer does: no science database, no distribution.
  consumer: ['config', 'avro', 'alert', 'kafka'],
  // The live web page: reads topics as a consumer does, looks alerts up in the science database, lists the user filters.
  console: ['config', 'avro', 'alert', 'kafka', 'sciencedb', 'service', 'userfilter', 'consumer'],
  // Helpers of the entry points: they may use every room, and no room uses them.
  cli: ['config', 'avro', 'alert', 'kafka', 'cluster', 'sciencedb', 'service', 'userfilter', 'distribution', 'upstream', 'simulator', 'consumer', 'console'],
};
const ALL = [...Object.keys(ROOMS)];

function roomRule(room) {
  const forbidden = ALL.filter((r) => r !== room && !ROOMS[room].includes(r));
  return {
    files: [`src/${room}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', { patterns: forbidden.map((r) => ({ group: [`../${r}/*`, `**/src/${r}/*`], message: `src/${room} may not use src/${r}: see the order of rooms in docs/architecture.md` })) }],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'var/', '.venv/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The product's functions read at a glance; tests (long scenario bodies) are exempt.
    files: ['src/**/*.ts', 'bin/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 100 }] },
  },
  ...Object.keys(ROOMS).map(roomRule),
  {
    // Shared helpers at the top of src/ import no room.
    files: ['src/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ALL.map((r) => `./${r}/*`), message: 'a shared helper imports no room' }] }] },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
