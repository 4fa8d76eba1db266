// `fink filter fields|test|add|list|remove`: user filters (issue 23): the names a condition may
// use, a dry run of a condition over the stored alerts, and the registrations in the cluster
// (src/cli/user-filters.ts) that the distribution will fill topics from.
import { readSync } from 'node:fs';
import { commandArgs, intFlag } from '../../src/cli/args.ts';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { loadFilters } from '../../src/distribution/filters.ts';
import { UsageError } from '../../src/errors.ts';
import { printable } from '../../src/printable.ts';
import { SURVEYS, type Survey } from '../../src/alert/survey.ts';
import { isNight } from '../../src/sciencedb/simulation.ts';
import { storedAlerts } from '../../src/cli/stored-alerts.ts';
import { addFilter, listFilters, removeFilter, sentOfNight, type NightSent } from '../../src/cli/user-filters.ts';
import { CONTENTS, MAX_FILTER_NAME, MAX_OWNER, registrationKey, type Content, type Registration } from '../../src/userfilter/registration.ts';
import { surveyFields } from '../../src/userfilter/catalogue.ts';
import { compileCondition } from '../../src/userfilter/condition.ts';
import { FUNCTIONS } from '../../src/userfilter/functions.ts';
import { MAX_CONDITION_LENGTH, MAX_DEPTH, MAX_IN_LIST, MAX_NAME_LENGTH, MAX_OPERATORS } from '../../src/userfilter/limits.ts';
import type { Predicate } from '../../src/userfilter/scope.ts';

const USAGE = `usage: fink filter fields --survey ztf|lsst [--json] [--conf FILE]
       fink filter test --survey ztf|lsst --where CONDITION [--night YYYYMMDD] [--limit N] [--json] [--conf FILE]
       fink filter add NAME --survey ztf|lsst --where CONDITION [--owner USER] [--content full|light] [--quota-mb MB] [--conf FILE]
       fink filter list [--night YYYYMMDD] [--json] [--conf FILE]
       fink filter remove NAME --survey ztf|lsst [--owner USER] [--conf FILE]

User filters: a stream of your own, the alerts that match a condition of yours.

  fields    the names a condition may use for the survey's alerts: the typed fields with their
            types and units, and the shipped science filters (FILTERS_DIR) as yes/no tests
  test      how many alerts of the science database match the condition, and the first few of
            them (ids, object, night); nothing is published. The SQLite nights at SCIENCE_DB_PATH,
            or with SCIENCE_STORE=kafka the science log, read to its end at read_committed (each
            alert once, a record that is not an alert named and passed over)
  add       registers the filter in the cluster (USER_FILTERS_TOPIC, created on first use), creates
            its topic USER_TOPIC_PREFIX<owner>_<name>_<survey> as the community topics are made, and
            prints the topic. NAME and the owner: a-z, 0-9 and _ (not first), at most ${MAX_FILTER_NAME} and
            ${MAX_OWNER} characters. A filter of the same name, owner and survey is refused (remove it first).
            In secured mode --owner is required: that Kafka user gets READ on the topic and on groups
            starting <owner>-, and the distribution's user (KAFKA_SASL_USERNAME) WRITE and DESCRIBE
            on the topic (remove takes the owner's back). A running distribution fills the topic from its
            next batch on. Two add or remove of one filter at once: one of them fails, exit 1,
            'another add/remove of this filter ran at the same time; run it again'.
  list      the registered filters: owner, name, survey, topic, created, quota, condition, and
            what each sent this night: alerts (sent) and bytes, keys and values, as its topic holds
            them. This night is the latest night any filter sent something, or --night; the figures
            add up the records every distribution instance writes with its batches in
            USER_FILTER_USAGE_TOPIC, so they are exact in group mode too. '-' until a distribution
            has reported
  remove    removes the registration (the topic and its messages stay until retention) and, in
            secured mode, the owner's rights (its groups with its last filter); the distribution's
            WRITE on the topic stays (a batch in flight may still write it)

  --survey S         ztf or lsst
  --where COND       the condition, SQL's WHERE clause: magpsf < 18 AND fid = 1 AND NOT sso_candidates
                     ('-' reads it from standard input)
  --night YYYYMMDD   test: only the alerts of that night (default: every night); list: what the
                     filters sent that night (default: the latest night with any)
  --limit N          test: matching alerts to show (default 10; 0 for none)
  --json             print the answer as one JSON object
  --owner USER       add, remove: the filter's owner (default: public)
  --content C        add: full (the whole alert, default) or light (no cutouts nor histories)
  --quota-mb MB      add: megabytes a night the filter may send (default: the operator's)

The condition: comparisons (= <> != < <= > >=), AND, OR, NOT, BETWEEN a AND b, IN (...),
IS [NOT] NULL, LIKE ('%' any run, '_' one character, case counts), + - * / % and unary -, (...),
numbers, 'strings' ('' for a quote), TRUE, FALSE, NULL, and the functions ${[...FUNCTIONS.keys()].join(', ')}.
SQL's NULL logic: a comparison with a missing value is unknown, and unknown does not match. Ids
(candid, diaObjectId...) compare exactly with whole numbers written out. At most
${MAX_CONDITION_LENGTH} characters, ${MAX_OPERATORS} operators, ${MAX_DEPTH} levels of nesting, ${MAX_IN_LIST} values in an
IN list, names of ${MAX_NAME_LENGTH} characters.

Exit status 2 for a condition that is not valid, with one line saying what and where (column),
and for a name that is not valid, a filter that exists already or one that does not; nothing is
registered then.
`;

/** A condition read from standard input, refused past its bound without reading the rest. */
function readConditionFromStdin(): string {
  const bound = MAX_CONDITION_LENGTH * 4 + 1;
  const buffer = Buffer.alloc(bound);
  let length = 0;
  for (let n = 1; n > 0 && length < bound;) {
    n = readSync(0, buffer, length, bound - length, null);
    length += n;
  }
  if (length === bound) throw new UsageError(`the condition on standard input is longer than ${MAX_CONDITION_LENGTH} characters`);
  return buffer.toString('utf8', 0, length).trim();
}

function surveyOf(value: string | undefined): Survey {
  if (value === undefined) throw new UsageError(`--survey is required: ${SURVEYS.join(' or ')}`);
  if (!(SURVEYS as readonly string[]).includes(value)) throw new UsageError(`--survey is ${SURVEYS.join(' or ')}, got '${value}'`);
  return value as Survey;
}

/** The shipped science filters as the condition's predicates. */
async function shippedPredicates(config: Config): Promise<Predicate[]> {
  const filters = await loadFilters(config.require('FILTERS_DIR'));
  return filters.map((f) => ({ name: f.name, survey: f.survey, description: f.description, test: f.filter }));
}

const FLAGS = {
  survey: { type: 'string' }, where: { type: 'string' }, night: { type: 'string' },
  limit: { type: 'string' }, json: { type: 'boolean' },
  owner: { type: 'string' }, content: { type: 'string' }, 'quota-mb': { type: 'string' },
} as const;
type Values = Partial<Record<'survey' | 'where' | 'night' | 'limit' | 'owner' | 'content' | 'quota-mb' | 'conf', string>> & { json?: boolean };
const ACTIONS = ['fields', 'test', 'add', 'list', 'remove'] as const;
/** The flags each action takes (besides --conf and --help). */
const TAKES: Record<(typeof ACTIONS)[number], readonly (keyof Values)[]> = {
  fields: ['survey', 'json'],
  test: ['survey', 'where', 'night', 'limit', 'json'],
  add: ['survey', 'where', 'owner', 'content', 'quota-mb'],
  list: ['night', 'json'],
  remove: ['survey', 'owner'],
};

function whereOf(values: Values, action: string): string {
  if (values.where === undefined) throw new UsageError(`fink filter ${action} needs --where CONDITION`);
  return values.where === '-' ? readConditionFromStdin() : values.where;
}

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, FLAGS, true);
  if (args === undefined) return 0;
  const values = args.values as Values;
  const [action, ...rest] = args.positionals;
  if (!(ACTIONS as readonly (string | undefined)[]).includes(action)) throw new UsageError(action === undefined ? `fink filter ${ACTIONS.join('|')}` : `unknown action 'fink filter ${printable(action)}': ${ACTIONS.join(', ')}`);
  const act = action as (typeof ACTIONS)[number];
  const extra = (Object.keys(values) as (keyof Values)[]).find((k) => k !== 'conf' && k !== 'help' as keyof Values && !TAKES[act].includes(k));
  if (extra !== undefined) throw new UsageError(`fink filter ${act} takes ${TAKES[act].map((f) => `--${f}`).join(', ') || 'no flags'}, not --${extra}`);
  const named = act === 'add' || act === 'remove';
  if (rest.length > (named ? 1 : 0)) throw new UsageError(`unexpected argument '${printable(rest[named ? 1 : 0]!)}'`);
  if (named && rest.length === 0) throw new UsageError(`fink filter ${act} NAME: the filter's name is missing`);
  const config = loadConfig({ confFile: values.conf });
  if (act === 'list') {
    if (values.night !== undefined && !isNight(values.night)) throw new UsageError(`--night is a date written YYYYMMDD, got '${printable(values.night)}'`);
    const registrations = await listFilters(config);
    process.stdout.write(listText(registrations, registrations.length === 0 ? null : await sentOfNight(config, values.night), values.json === true));
    return 0;
  }
  const survey = surveyOf(values.survey);
  if (act === 'remove') {
    const removed = await removeFilter(config, rest[0]!, values.owner, survey);
    process.stdout.write(`removed filter ${removed.name} of ${removed.owner} for ${survey}; topic ${removed.topic} stays until its retention\n`);
    return 0;
  }
  const predicates = await shippedPredicates(config);
  if (act === 'fields') {
    process.stdout.write(fieldsText(survey, predicates, values.json === true));
    return 0;
  }
  const where = whereOf(values, act);
  if (act === 'add') {
    const content = values.content ?? 'full';
    if (!(CONTENTS as readonly string[]).includes(content)) throw new UsageError(`--content is ${CONTENTS.join(' or ')}, got '${printable(content)}'`);
    const quotaMb = intFlag('quota-mb', values['quota-mb'], 1, 1_000_000) ?? null;
    const added = await addFilter(config, { name: rest[0]!, owner: values.owner, survey, where, content: content as Content, quotaMb }, predicates);
    process.stdout.write(`${added.topic}\n`);
    return 0;
  }
  if (values.night !== undefined && !isNight(values.night)) throw new UsageError(`--night is a date written YYYYMMDD, got '${printable(values.night)}'`);
  const limit = intFlag('limit', values.limit, 0) ?? 10;
  const result = await testCondition(config, survey, where, predicates, values.night, limit);
  process.stdout.write(values.json === true ? JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n' : testText(result));
  return 0;
}

/**
 * The registrations with what each sent `sent.night` (alerts and bytes; 0 for a filter that sent
 * nothing that night): '-' (null, and no `night` in JSON) until a distribution has reported.
 */
function listText(registrations: readonly Registration[], sent: NightSent | null, json: boolean): string {
  const known = sent !== null && sent.night !== null;
  const rows = registrations.map((r) => {
    const u = sent?.byFilter.get(registrationKey(r.owner, r.name, r.survey));
    return { ...r, sent: known ? (u?.alerts ?? 0) : null, bytesTonight: known ? (u?.bytes ?? 0) : null, ...(known ? { night: sent.night } : {}) };
  });
  if (json) return JSON.stringify(rows, null, 2) + '\n';
  if (rows.length === 0) return 'no user filters\n';
  const cols = ['owner', 'name', 'survey', 'topic', 'created', 'sent', 'bytes', 'quota', 'condition'];
  const table = rows.map((r) => [r.owner, r.name, r.survey, r.topic, r.created.slice(0, 19) + 'Z', String(r.sent ?? '-'), String(r.bytesTonight ?? '-'), r.quotaMb === null ? 'default' : `${r.quotaMb} MB`, printable(r.where)]);
  const widths = cols.map((c, i) => Math.max(c.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const night = known ? [`sent: alerts, bytes: keys and values, of night ${sent.night} (--night YYYYMMDD for another)`] : [];
  return [line(cols), ...table.map(line), ...night].join('\n') + '\n';
}

function fieldsText(survey: Survey, predicates: readonly Predicate[], json: boolean): string {
  const fields = surveyFields(survey);
  const own = predicates.filter((p) => p.survey === survey && !fields.some((f) => f.name.toLowerCase() === p.name.toLowerCase()));
  if (json) {
    const answer = { survey, fields, predicates: own.map((p) => ({ name: p.name, type: 'boolean', description: p.description })), functions: [...FUNCTIONS.keys()] };
    return JSON.stringify(answer, null, 2) + '\n';
  }
  const width = Math.max(...fields.map((f) => f.name.length), ...own.map((p) => p.name.length));
  const out = [`fields of ${survey} alerts (NULL where an alert has no value):`];
  for (const f of fields) out.push(`  ${f.name.padEnd(width)}  ${f.type.padEnd(7)}  ${(f.unit || '-').padEnd(6)}  ${f.description}`);
  out.push(`shipped filters of ${survey} alerts, usable as tests (TRUE when the filter takes the alert):`);
  if (own.length === 0) out.push('  none');
  for (const p of own) out.push(`  ${p.name.padEnd(width)}  boolean  -       ${printable(p.description)}`);
  out.push(`functions: ${[...FUNCTIONS.keys()].join(', ')}`);
  return out.join('\n') + '\n';
}

interface Shown {
  id: bigint;
  object: string;
  night: string;
}

interface TestResult {
  survey: Survey;
  condition: string;
  night: string | null;
  /** Alerts of the survey read. */
  alerts: number;
  matched: number;
  /** Alerts for which the condition threw (counted as not matching). */
  failed: number;
  firstFailure: string | null;
  /** Records of the science log that are not alerts, passed over. */
  notAlerts: number;
  shown: Shown[];
}

async function testCondition(config: Config, survey: Survey, where: string, predicates: readonly Predicate[], night: string | undefined, limit: number): Promise<TestResult> {
  const result: TestResult = { survey, condition: where, night: night ?? null, alerts: 0, matched: 0, failed: 0, firstFailure: null, notAlerts: 0, shown: [] };
  // Compiled before the store is opened: a condition that is not valid reads nothing.
  const condition = compileCondition(where, survey, {
    predicates,
    onError: (err) => {
      result.failed++;
      result.firstFailure ??= err instanceof Error ? err.message : String(err);
    },
  });
  const onNotAlert = (err: Error) => {
    if (result.notAlerts++ === 0) process.stderr.write(`fink: passed over a record that is not an alert: ${printable(err.message)}\n`);
  };
  for await (const alert of storedAlerts(config, survey, { night, onNotAlert })) {
    result.alerts++;
    if (!condition.test(alert.fields)) continue;
    result.matched++;
    if (result.shown.length < limit) result.shown.push({ id: alert.alertId, object: alert.objectKey, night: alert.night });
  }
  return result;
}

function testText(r: TestResult): string {
  const where = r.night === null ? 'all nights' : `night ${r.night}`;
  const out = [`${r.matched} of ${r.alerts} ${r.survey} alerts match (${where}); nothing was published`];
  if (r.notAlerts > 0) out.push(`${r.notAlerts} records of the science log are not alerts and were passed over (the first is named on stderr)`);
  if (r.failed > 0) out.push(`the condition failed for ${r.failed} alerts, counted as not matching: ${printable(r.firstFailure ?? '')}`);
  if (r.shown.length > 0) {
    const idName = r.survey === 'ztf' ? 'candid' : 'diaSourceId';
    out.push(`${idName.padEnd(20)}  ${'object'.padEnd(24)}  night`);
    for (const s of r.shown) out.push(`${String(s.id).padEnd(20)}  ${printable(s.object).padEnd(24)}  ${s.night}`);
    if (r.matched > r.shown.length) out.push(`... and ${r.matched - r.shown.length} more (--limit N shows more)`);
  }
  return out.join('\n') + '\n';
}
