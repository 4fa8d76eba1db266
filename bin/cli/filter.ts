// `fink filter fields|test`: the first part of user filters (issue 23): the names a condition may
// use, and a dry run of a condition over the stored alerts. Nothing is published or registered.
import { readSync } from 'node:fs';
import { commandArgs, intFlag } from '../../src/cli/args.ts';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { loadFilters } from '../../src/distribution/filters.ts';
import { UsageError } from '../../src/errors.ts';
import { printable } from '../../src/printable.ts';
import { SURVEYS, type Survey } from '../../src/alert/survey.ts';
import { isNight } from '../../src/sciencedb/simulation.ts';
import { storedAlerts } from '../../src/cli/stored-alerts.ts';
import { surveyFields } from '../../src/userfilter/catalogue.ts';
import { compileCondition } from '../../src/userfilter/condition.ts';
import { FUNCTIONS } from '../../src/userfilter/functions.ts';
import { MAX_CONDITION_LENGTH, MAX_DEPTH, MAX_IN_LIST, MAX_NAME_LENGTH, MAX_OPERATORS } from '../../src/userfilter/limits.ts';
import type { Predicate } from '../../src/userfilter/scope.ts';

const USAGE = `usage: fink filter fields --survey ztf|lsst [--json] [--conf FILE]
       fink filter test --survey ztf|lsst --where CONDITION [--night YYYYMMDD] [--limit N] [--json] [--conf FILE]

User filters, first part: the condition language of a stream of your own (registering one,
\`fink filter add\`, comes later).

  fields    the names a condition may use for the survey's alerts: the typed fields with their
            types and units, and the shipped science filters (FILTERS_DIR) as yes/no tests
  test      how many alerts of the science database match the condition, and the first few of
            them (ids, object, night); nothing is published. The SQLite nights at SCIENCE_DB_PATH,
            or with SCIENCE_STORE=kafka the science log, read to its end at read_committed (each
            alert once, a record that is not an alert named and passed over)

  --survey S         ztf or lsst
  --where COND       the condition, SQL's WHERE clause: magpsf < 18 AND fid = 1 AND NOT sso_candidates
                     ('-' reads it from standard input)
  --night YYYYMMDD   test: only the alerts of that night (default: every night)
  --limit N          test: matching alerts to show (default 10; 0 for none)
  --json             print the answer as one JSON object

The condition: comparisons (= <> != < <= > >=), AND, OR, NOT, BETWEEN a AND b, IN (...),
IS [NOT] NULL, LIKE ('%' any run, '_' one character, case counts), + - * / % and unary -, (...),
numbers, 'strings' ('' for a quote), TRUE, FALSE, NULL, and the functions ${[...FUNCTIONS.keys()].join(', ')}.
SQL's NULL logic: a comparison with a missing value is unknown, and unknown does not match. Ids
(candid, diaObjectId...) compare exactly with whole numbers written out. At most
${MAX_CONDITION_LENGTH} characters, ${MAX_OPERATORS} operators, ${MAX_DEPTH} levels of nesting, ${MAX_IN_LIST} values in an
IN list, names of ${MAX_NAME_LENGTH} characters.

Exit status 2 for a condition that is not valid, with one line saying what and where (column).
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

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, {
    survey: { type: 'string' }, where: { type: 'string' }, night: { type: 'string' },
    limit: { type: 'string' }, json: { type: 'boolean' },
  }, true);
  if (args === undefined) return 0;
  const { values, positionals } = args;
  const [action, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument '${printable(rest[0]!)}'`);
  if (action !== 'fields' && action !== 'test') throw new UsageError(action === undefined ? 'fink filter fields or fink filter test' : `unknown action 'fink filter ${printable(action)}': fields or test`);
  const survey = surveyOf(values.survey);
  const config = loadConfig({ confFile: values.conf });
  const predicates = await shippedPredicates(config);
  if (action === 'fields') {
    if (values.where !== undefined || values.night !== undefined || values.limit !== undefined) throw new UsageError('fink filter fields takes --survey and --json only');
    process.stdout.write(fieldsText(survey, predicates, values.json === true));
    return 0;
  }
  if (values.where === undefined) throw new UsageError('fink filter test needs --where CONDITION');
  const where = values.where === '-' ? readConditionFromStdin() : values.where;
  if (values.night !== undefined && !isNight(values.night)) throw new UsageError(`--night is a date written YYYYMMDD, got '${printable(values.night)}'`);
  const limit = intFlag('limit', values.limit, 0) ?? 10;
  const result = await testCondition(config, survey, where, predicates, values.night, limit);
  process.stdout.write(values.json === true ? JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n' : testText(result));
  return 0;
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
