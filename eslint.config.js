// Flat config (ESLint 9): typed rules on the TypeScript sources, the recommended sets otherwise,
// and the rule that keeps the rooms of the flow in order (docs/architecture.md): a room under src/
// imports only the rooms before it, never one after it, and the two ends of the stream
// (distribution, consumer) never import each other.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The rooms, in the order of the flow; each may use those listed before it (and shared helpers). */
const ROOMS = {
  config: [],
  kafka: ['config'],
  // The managed clusters: provisioning, properties, processes, security, the registry (fink_kafka's side).
  cluster: ['config', 'kafka'],
  avro: ['config'],
  alert: ['config', 'avro'],
  sciencedb: ['config', 'avro', 'alert'],
  distribution: ['config', 'kafka', 'cluster', 'avro', 'alert', 'sciencedb'],
  consumer: ['config', 'kafka', 'avro', 'alert'],
  // The live web page: reads topics as a consumer does, looks alerts up in the science database.
  console: ['config', 'kafka', 'avro', 'alert', 'sciencedb', 'consumer'],
  // The survey's side of the live chain: replays alerts on the simulator cluster.
  simulator: ['config', 'kafka', 'cluster', 'avro', 'alert', 'sciencedb'],
  // stream2science: the survey's stream into the science database (no other room uses it).
  upstream: ['config', 'kafka', 'avro', 'alert', 'sciencedb'],
  // Helpers of the entry points: they may use every room, and no room uses them.
  cli: ['config', 'kafka', 'cluster', 'avro', 'alert', 'sciencedb', 'distribution', 'consumer', 'console', 'simulator', 'upstream'],
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
