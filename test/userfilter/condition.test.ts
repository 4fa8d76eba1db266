// The condition language of user filters: every construct, SQL's NULL logic, the precedence of the
// operators, the errors with their columns, the limits and hostile texts (src/userfilter).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { COLUMNS } from '../../src/alert/fields.ts';
import { LSST_COLUMNS, LSST_ID_COLUMNS } from '../../src/alert/lsst-fields.ts';
import type { Survey } from '../../src/alert/survey.ts';
import { FINK_CODES } from '../../src/errors.ts';
import { surveyFields } from '../../src/userfilter/catalogue.ts';
import { checkCondition } from '../../src/userfilter/check.ts';
import { compileChecked, guardOf } from '../../src/userfilter/compile.ts';
import { compileCondition } from '../../src/userfilter/condition.ts';
import { parseCondition } from '../../src/userfilter/parser.ts';
import { scopeOf } from '../../src/userfilter/scope.ts';
import { ConditionError } from '../../src/userfilter/condition-error.ts';
import { MAX_CONDITION_LENGTH, MAX_DEPTH, MAX_IN_LIST, MAX_OPERATORS } from '../../src/userfilter/limits.ts';
import { fieldIndex, fieldsSlot, rowOf } from '../../src/userfilter/row.ts';
import type { Predicate } from '../../src/userfilter/scope.ts';

type Values = Record<string, unknown>;

/** An alert of the survey with every field NULL but those given. */
function alert(survey: Survey, values: Values): never {
  const fields: Values = Object.fromEntries(surveyFields(survey).map((f) => [f.name, null]));
  if (survey === 'ztf') Object.assign(fields, { objectId: 'ZTF18aaaaaaa', candid: 1n });
  else fields.diaSourceId = 1n;
  return { ...fields, ...values } as never;
}

const ztf = (text: string, values: Values = {}, predicates: Predicate[] = []) => compileCondition(text, 'ztf', { predicates }).test(alert('ztf', values));
const lsst = (text: string, values: Values = {}, predicates: Predicate[] = []) => compileCondition(text, 'lsst', { predicates }).test(alert('lsst', values));

/** The ConditionError of a text, which must have one. */
function refusal(text: string, survey: Survey = 'ztf', predicates: Predicate[] = []): ConditionError {
  try {
    compileCondition(text, survey, { predicates });
  } catch (err) {
    assert.ok(err instanceof ConditionError, `a ConditionError for ${JSON.stringify(text.slice(0, 80))}, got ${String(err)}`);
    return err;
  }
  assert.fail(`no error for ${JSON.stringify(text.slice(0, 80))}`);
}

const spy = (survey: Survey, name: string, answer: (fields: Values) => boolean) => {
  const calls: Values[] = [];
  const predicate: Predicate = { name, survey, description: 'a test', test: ((fields: Values) => (calls.push(fields), answer(fields))) as never };
  return { predicate, calls };
};

describe('constructs', () => {
  test('every comparison operator on numbers', () => {
    const m = { magpsf: 18 };
    assert.deepEqual(['magpsf = 18', 'magpsf <> 18', 'magpsf != 18', 'magpsf < 18', 'magpsf <= 18', 'magpsf > 18', 'magpsf >= 18'].map((c) => ztf(c, m)), [true, false, false, false, true, false, true]);
    assert.deepEqual(['18 = magpsf', '17 < magpsf', '19 > magpsf', '18 >= magpsf', 'magpsf + 0 < 18.5'].map((c) => ztf(c, m)), [true, true, true, true, true]);
  });

  test('comparisons of strings, and of booleans', () => {
    assert.equal(ztf("cdsxmatch = 'SN'", { cdsxmatch: 'SN' }), true);
    assert.equal(ztf("cdsxmatch <> 'SN'", { cdsxmatch: 'Star' }), true);
    assert.equal(ztf("cdsxmatch < 'T'", { cdsxmatch: 'Star' }), true);
    assert.equal(lsst('is_sso = TRUE', { is_sso: true }), true);
    assert.equal(lsst('is_sso = FALSE', { is_sso: true }), false);
  });

  test('a boolean field is a test on its own', () => {
    assert.equal(lsst('is_sso', { is_sso: true }), true);
    assert.equal(lsst('NOT isDipole AND snr > 5', { isDipole: false, snr: 6 }), true);
    assert.equal(lsst('NOT isDipole', { isDipole: null }), false);
  });

  test('BETWEEN includes both ends; NOT BETWEEN is its negation', () => {
    assert.deepEqual([17, 18, 19, 20].map((v) => ztf('magpsf BETWEEN 18 AND 19', { magpsf: v })), [false, true, true, false]);
    assert.deepEqual([17, 18, 19, 20].map((v) => ztf('magpsf NOT BETWEEN 18 AND 19', { magpsf: v })), [true, false, false, true]);
    assert.equal(ztf('magpsf BETWEEN 18 AND 19 AND fid = 1', { magpsf: 18.5, fid: 1 }), true, 'the AND after BETWEEN ... AND ... is a conjunction');
  });

  test('IN and NOT IN, of strings and numbers, constants or not', () => {
    assert.equal(ztf("cdsxmatch IN ('Unknown', 'SN', 'Candidate_SN*')", { cdsxmatch: 'SN' }), true);
    assert.equal(ztf("cdsxmatch NOT IN ('Unknown', 'SN')", { cdsxmatch: 'Star' }), true);
    assert.equal(ztf('fid IN (1, 2)', { fid: 3 }), false);
    assert.equal(ztf('fid IN (roid, 2 + 1)', { fid: 3, roid: 1 }), true);
  });

  test("LIKE: % any run, _ one character, case counts, NOT LIKE, and '' a quote", () => {
    const like = (pattern: string, value: string) => ztf(`cdsxmatch LIKE '${pattern}'`, { cdsxmatch: value });
    assert.deepEqual([like('SN%', 'SN Ia'), like('SN%', 'SN'), like('%Ia', 'SN Ia'), like('S_', 'SN'), like('S_', 'SNe'), like('sn%', 'SN'), like('%', ''), like('a%b%c', 'aXbYc'), like('a%b%c', 'aXbY')], [true, true, true, true, false, false, true, true, false]);
    assert.equal(ztf("cdsxmatch NOT LIKE 'Candidate%'", { cdsxmatch: 'Candidate_SN*' }), false);
    assert.equal(ztf("cdsxmatch LIKE 'it''s%'", { cdsxmatch: "it's a star" }), true);
    assert.equal(like('a_b', 'a\u{1F52D}b'), true, '_ is one character, even outside the BMP');
    assert.equal(like('a__b', 'a\u{1F52D}b'), false);
    assert.equal(ztf("cdsxmatch LIKE ssnamenr", { cdsxmatch: 'ab', ssnamenr: 'a%' }), true, 'a pattern from a field');
  });

  test('LIKE takes time linear in the text for a pattern that makes regular expressions backtrack', () => {
    const condition = compileCondition(`cdsxmatch LIKE '${'%a'.repeat(60)}%b'`, 'ztf');
    const start = performance.now();
    assert.equal(condition.test(alert('ztf', { cdsxmatch: 'a'.repeat(2000) })), false);
    assert.ok(performance.now() - start < 5_000, 'well under the seconds a backtracking regex takes');
  });

  test('arithmetic: + - * / % and unary minus, with a result that is not finite being NULL', () => {
    const m = { magpsf: 18, sigmapsf: 0.5, fid: 2 };
    assert.deepEqual(['magpsf + sigmapsf = 18.5', 'magpsf - sigmapsf = 17.5', 'magpsf * fid = 36', 'magpsf / fid = 9', 'magpsf % 5 = 3', '-magpsf = -18', '- -magpsf = 18', '+magpsf = 18'].map((c) => ztf(c, m)), Array(8).fill(true));
    assert.equal(ztf('magpsf / 0 > 0', m), false, 'a division by zero is NULL');
    assert.equal(ztf('magpsf / 0 IS NULL', m), true);
  });

  test('the functions', () => {
    const m = { magpsf: -4, sigmapsf: 100, drb: null };
    const cases = ['abs(magpsf) = 4', 'sqrt(sigmapsf) = 10', 'log10(sigmapsf) = 2', 'ln(exp(2)) = 2', 'power(2, 10) = 1024', 'least(3, magpsf, 7) = -4', 'greatest(3, magpsf, 7) = 7', 'least(drb, 5) = 5', 'coalesce(drb, magpsf, 1) = -4', "coalesce(cdsxmatch, 'none') = 'none'", 'sqrt(magpsf) IS NULL', 'ln(0) IS NULL', 'least(drb) IS NULL', 'ABS(magpsf) = 4'];
    for (const c of cases) assert.equal(ztf(c, m), true, c);
  });

  test('literals: decimals, exponents, strings with quotes, TRUE, FALSE, NULL; keywords and names in any case', () => {
    assert.equal(ztf('drb > .5 and DRB < 1e0 AnD drb = 0.75E0', { drb: 0.75 }), true);
    assert.equal(ztf("ssnamenr = 'O''Neil'", { ssnamenr: "O'Neil" }), true);
    assert.equal(ztf('TRUE'), true);
    assert.equal(ztf('false or not FALSE'), true);
    assert.equal(ztf('NULL IS NULL'), true);
  });

  test('ids compare exactly, beyond the 2^53 of a double', () => {
    const m = { candid: 1234567890123456789n };
    assert.equal(ztf('candid = 1234567890123456789', m), true);
    assert.equal(ztf('candid = 1234567890123456788', m), false, 'a double would round both to the same value');
    assert.equal(ztf('candid IN (1, 1234567890123456789)', m), true);
    assert.equal(ztf('candid > 1234567890123456788', m), true);
    assert.equal(lsst('ssObjectId IS NOT NULL', { ssObjectId: 5n }), true);
    assert.equal(lsst('diaObjectId = 5', { diaObjectId: null }), false);
  });

  test('a shipped filter is a test by its name, refined by the condition', () => {
    const { predicate, calls } = spy('ztf', 'early_sn_candidates', (f) => (f.ndethist as number) < 5);
    assert.equal(ztf('early_sn_candidates AND magpsf < 19', { ndethist: 2, magpsf: 18 }, [predicate]), true);
    assert.equal(ztf('NOT early_sn_candidates', { ndethist: 2 }, [predicate]), false);
    assert.equal(calls.length, 2);
  });

  test('the names a condition reads, once each, spelled as the catalogue does', () => {
    assert.deepEqual(compileCondition('MAGPSF < 18 AND fid = 1 OR magpsf > 20', 'ztf').names, ['magpsf', 'fid']);
  });
});

describe('precedence', () => {
  test('AND binds tighter than OR', () => {
    assert.equal(ztf('fid = 1 OR fid = 2 AND magpsf < 10', { fid: 1, magpsf: 20 }), true);
    assert.equal(ztf('(fid = 1 OR fid = 2) AND magpsf < 10', { fid: 1, magpsf: 20 }), false);
  });

  test('NOT binds looser than a comparison and tighter than AND', () => {
    assert.equal(ztf('NOT fid = 1 AND magpsf < 10', { fid: 2, magpsf: 5 }), true);
    assert.equal(ztf('NOT (fid = 1 AND magpsf < 10)', { fid: 1, magpsf: 20 }), true);
    assert.equal(ztf('NOT NOT fid = 1', { fid: 1 }), true);
  });

  test('* / % before + -, left to right, unary minus tightest', () => {
    assert.equal(ztf('1 + 2 * 3 = 7'), true);
    assert.equal(ztf('(1 + 2) * 3 = 9'), true);
    assert.equal(ztf('10 - 4 - 3 = 3'), true);
    assert.equal(ztf('12 / 3 / 2 = 2'), true);
    assert.equal(ztf('-2 * 3 = -6 AND 7 % 4 * 2 = 6'), true);
  });
});

describe('NULL logic', () => {
  test('a comparison with a NULL field is unknown, and unknown does not match, nor does its negation', () => {
    assert.equal(ztf('drb > 0.5'), false);
    assert.equal(ztf('NOT drb > 0.5'), false);
    assert.equal(ztf('drb <= 0.5'), false);
    assert.equal(ztf("NOT cdsxmatch = 'SN'"), false);
  });

  test('FALSE AND unknown is FALSE, TRUE OR unknown is TRUE, TRUE AND unknown and FALSE OR unknown are unknown', () => {
    assert.equal(ztf('NOT (fid = 2 AND drb > 0.5)', { fid: 1 }), true, 'FALSE AND NULL = FALSE');
    assert.equal(ztf('fid = 1 OR drb > 0.5', { fid: 1 }), true, 'TRUE OR NULL = TRUE');
    assert.equal(ztf('NOT (fid = 1 AND drb > 0.5)', { fid: 1 }), false, 'NOT (TRUE AND NULL) = NULL');
    assert.equal(ztf('NOT (fid = 2 OR drb > 0.5)', { fid: 1 }), false, 'NOT (FALSE OR NULL) = NULL');
  });

  test('IS NULL and IS NOT NULL are never unknown', () => {
    assert.equal(ztf('drb IS NULL'), true);
    assert.equal(ztf('drb IS NOT NULL'), false);
    assert.equal(ztf('drb + 1 IS NULL'), true, 'arithmetic with NULL is NULL');
    assert.equal(ztf('NOT drb IS NULL', { drb: 0.1 }), true);
  });

  test('IN with NULL in the list: found is TRUE, not found is unknown; NOT IN then never matches', () => {
    assert.equal(ztf('fid IN (1, drb)', { fid: 1 }), true);
    assert.equal(ztf('fid IN (2, drb)', { fid: 1 }), false);
    assert.equal(ztf('fid NOT IN (2, drb)', { fid: 1 }), false);
    assert.equal(ztf('fid NOT IN (2, 3)', { fid: 1 }), true);
    assert.equal(ztf('fid NOT IN (2, 3)'), false, 'a NULL value is unknown in any list');
  });

  test('BETWEEN with a NULL end, LIKE of a NULL, and a float that is not a number count as unknown', () => {
    assert.equal(ztf('magpsf BETWEEN drb AND 20', { magpsf: 18 }), false);
    assert.equal(ztf('magpsf NOT BETWEEN drb AND 20', { magpsf: 18 }), false);
    assert.equal(ztf('magpsf NOT BETWEEN 18 AND 20'), false, 'a NULL field between constants');
    assert.equal(ztf("NOT cdsxmatch LIKE 'S%'"), false);
    assert.equal(ztf('NOT magpsf < 18', { magpsf: Number.NaN }), false);
    assert.equal(ztf('magpsf IS NULL', { magpsf: Number.NaN }), true);
  });
});

describe('errors, each with its column', () => {
  const cases: [string, RegExp, number][] = [
    ['magpsf < ', /ends too soon/, 10],
    ['magpsf < 18 AND', /ends too soon/, 16],
    ['(magpsf < 18', /expected '\)'/, 13],
    ['magpsf < 18)', /expected AND, OR or the end/, 12],
    ['magpsf 18', /expected AND, OR or the end of the condition, found '18'/, 8],
    ['1 < 2 < 3', /comparisons do not chain/, 7],
    ["cdsxmatch = 'SN", /string is not closed/, 13],
    ['magpsf < 1x', /'1x' is not a number/, 10],
    ['magpsf IS 5', /expected NULL after IS/, 11],
    ['fid IN 1, 2', /'\(' after IN/, 8],
    ['magpsf BETWEEN 1 OR 2', /expected AND in BETWEEN/, 18],
    ['', /empty/, 1],
    ['magpfs < 18', /unknown name 'magpfs' \(did you mean 'magpsf'\?\)/, 1],
    ['fid = 1 AND sigmpsf < 0.1', /did you mean 'sigmapsf'/, 13],
    ['xyzzy = 1', /unknown name 'xyzzy'; `fink filter fields --survey ztf` lists them/, 1],
    ["cdsxmatch = 1", /cannot compare a string with a number/, 11],
    ["magpsf > 'bright'", /cannot compare a number with a string/, 8],
    ["magpsf BETWEEN 1 AND 'x'", /cannot compare a number with a string/, 8],
    ["fid IN (1, 'g')", /cannot compare a number with a string/, 5],
    ["cdsxmatch + 1 > 2", /'\+' takes numbers, got a string/, 1],
    ['magpsf LIKE 1', /LIKE matches strings, got a number/, 1],
    ['abs(magpsf, 1) > 2', /abs takes 1 argument, got 2/, 1],
    ['power(magpsf) > 2', /power takes 2 arguments, got 1/, 1],
    ['least() > 2', /least takes at least 1 argument/, 1],
    ['sqr(magpsf) > 2', /unknown function 'sqr' \(did you mean 'sqrt'\?\)/, 1],
    ['magpsf(1) > 2', /'magpsf' is a name, not a function/, 1],
    ["coalesce(magpsf, 'x') = 1", /coalesce takes arguments of one type/, 18],
    ['magpsf = NULL', /never true: write IS NULL/, 8],
    ['magpsf <> NULL', /never true: write IS NOT NULL/, 8],
    ['magpsf + 1', /the condition is a number, not a test/, 8],
    ["'SN'", /the condition is a string, not a test/, 1],
    ['magpsf AND fid = 1', /AND takes tests \(true or false\), got a number/, 1],
    ['NOT magpsf', /NOT takes tests/, 5],
    ['candid + 1 > 2', /does not compute with ids/, 1],
    ['candid = 1.5', /an id compares only with ids and whole numbers/, 10],
    ['candid = magpsf', /an id compares only with ids and whole numbers/, 10],
    ['psfFlux > 100', /'psfFlux' is a name of lsst alerts, and this condition is for ztf alerts/, 1],
    ['1e999 > 1', /out of range/, 1],
    ['magpsf < 18 AND SELECT', /unknown name 'SELECT'/, 17],
  ];
  for (const [text, reason, column] of cases) {
    test(`${JSON.stringify(text)}: ${reason.source} at column ${column}`, () => {
      const err = refusal(text);
      assert.match(err.message, reason);
      assert.equal(err.column, column, err.message);
      if (column > 0 && text !== '') assert.match(err.message, new RegExp(`^condition at column ${column} \\(.*\\{here\\}.*\\): `));
    });
  }

  test('a ConditionError exits 2 with its own code, on one line whatever the condition holds', () => {
    const err = refusal("magpsf < 18 AND\n\tfid = 'g\u001b[31m'");
    assert.equal(err.exitCode, 2);
    assert.equal(err.code, 'FINK_CONDITION');
    assert.ok(FINK_CODES.includes(err.code));
    for (const c of ['\n', '\r', '\t', '\u001b']) assert.ok(!err.message.includes(c), `no ${JSON.stringify(c)} in the message`);
    assert.match(err.message, /\\n\\tfid \{here\}= 'g\\x1b\[31m'/);
  });

  test("a filter of the other survey is named as such; one of this survey that is not loaded is unknown", () => {
    const { predicate } = spy('lsst', 'solar_system', () => true);
    assert.match(refusal('solar_system', 'ztf', [predicate]).message, /'solar_system' is a name of lsst alerts, and this condition is for ztf alerts/);
    assert.equal(lsst('solar_system', {}, [predicate]), true);
  });
});

describe('limits and hostile texts', () => {
  const { predicate, calls } = spy('ztf', 'watched', () => true);
  const hostile: [string, string, RegExp, number][] = [
    ['a statement after the condition', 'watched AND 1=1; DROP TABLE alerts', /';' is not part of a condition/, 16],
    ['a second statement', "watched; DELETE FROM alerts WHERE '1'='1'", /';' is not part of a condition/, 8],
    ['a SQL comment', 'watched -- and the rest', /expected a value, a name or '\(', found AND/, 12],
    ['a path into an object', 'watched AND alert.constructor', /'\.' is not part of a condition/, 18],
    ["JavaScript's property access", "watched AND magpsf['constructor']", /unexpected character '\['/, 19],
    ['a JavaScript function', 'watched AND (() => exit(1))', /expected a value, a name or '\(', found '\)'/, 15],
    ['a template string', 'watched AND `${process.exit()}`', /` is not a quote here/, 13],
    ['a double-quoted name', 'watched AND "magpsf" < 18', /" is not a quote here/, 13],
    ['a name from the prototype', 'watched AND constructor = 1', /unknown name 'constructor'/, 13],
    ['another name from the prototype', 'watched AND __proto__ IS NULL', /unknown name '__proto__'/, 13],
    ['a method of every object', 'watched AND toString(1) = 1', /unknown function 'toString'/, 13],
    ['hasOwnProperty', 'watched AND hasOwnProperty IS NULL', /unknown name 'hasOwnProperty'/, 13],
    ['deep parentheses', `watched AND ${'('.repeat(2000)}1=1${')'.repeat(2000)}`, new RegExp(`nests deeper than ${MAX_DEPTH} levels`), 13 + MAX_DEPTH],
    ['deep NOTs', `watched AND ${'NOT '.repeat(1000)}watched`, /nests deeper/, 13 + 4 * MAX_DEPTH],
    ['deep unary minus', `watched AND ${'-'.repeat(1000)}1 = 1`, /nests deeper/, 13 + MAX_DEPTH],
    ['deep function calls', `watched AND ${'abs('.repeat(100)}1${')'.repeat(100)} = 1`, /nests deeper/, 13 + 4 * MAX_DEPTH],
    ['a long IN list', `watched AND fid IN (${Array.from({ length: MAX_IN_LIST + 1 }, (_, i) => i).join(',')})`, new RegExp(`at most ${MAX_IN_LIST} values`), 0],
    ['a character outside the language', 'watched AND magpsf \u{1F52D} 18', /unexpected character '\u{1F52D}'/u, 20],
    ['a long name', `watched AND ${'x'.repeat(100)} = 1`, /a name is 100 characters long, at most 64/, 13],
    ['a long chain of additions (a tree as deep as it is long)', `watched AND 1${'+1'.repeat(1500)} > 0`, new RegExp(`more than ${MAX_OPERATORS} operators`), 14 + 2 * (MAX_OPERATORS - 1)],
    ['a long chain of ORs', `watched${' OR fid = 1'.repeat(300)}`, new RegExp(`more than ${MAX_OPERATORS} operators`), 0],
  ];
  for (const [what, text, reason, column] of hostile) {
    test(`${what}: refused at its column, nothing evaluated`, () => {
      const err = refusal(text, 'ztf', [predicate]);
      assert.match(err.message, reason);
      if (column > 0) assert.equal(err.column, column, err.message);
      assert.doesNotMatch(err.message, /\n/);
      assert.ok(err.message.length < 400, `one short line: ${err.message.length} characters`);
      assert.equal(calls.length, 0, 'the filter named in the condition was never called');
    });
  }

  test('a megabyte string is refused by its length before it is read, quickly', () => {
    const start = performance.now();
    const err = refusal(`watched AND cdsxmatch = '${'A'.repeat(1 << 20)}'`, 'ztf', [predicate]);
    assert.match(err.message, new RegExp(`is ${(1 << 20) + 26} characters long, at most ${MAX_CONDITION_LENGTH}$`));
    assert.equal(err.column, 0);
    assert.ok(performance.now() - start < 1000);
    assert.equal(calls.length, 0);
  });

  test('a condition at the limits is accepted', () => {
    assert.equal(ztf(`${'('.repeat(MAX_DEPTH)}fid = 1${')'.repeat(MAX_DEPTH)}`, { fid: 1 }), true);
    assert.equal(ztf(`fid IN (${Array.from({ length: MAX_IN_LIST }, (_, i) => i).join(',')})`, { fid: 7 }), true);
    assert.equal(ztf(`fid = 1${' + 0'.repeat(MAX_OPERATORS - 1)}`, { fid: 1 }), true, `${MAX_OPERATORS} operators`);
    const long = `fid = 1${' '.repeat(MAX_CONDITION_LENGTH - 7)}`;
    assert.equal(long.length, MAX_CONDITION_LENGTH);
    assert.equal(ztf(long, { fid: 1 }), true);
  });

  test('a condition whose filter throws for an alert counts as not matching, and the caller hears of it', () => {
    const thrower = spy('ztf', 'fragile', () => { throw new Error('boom'); });
    const errors: unknown[] = [];
    const condition = compileCondition('fragile OR fid = 1', 'ztf', { predicates: [thrower.predicate], onError: (err) => errors.push(err) });
    assert.equal(condition.test(alert('ztf', { fid: 1 })), false);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /boom/);
  });
});

describe('the catalogue', () => {
  test("every typed field of each survey is a name of the language, with the type of its column", () => {
    const ztfNames = new Map(surveyFields('ztf').map((f) => [f.name, f.type]));
    const want = { real: 'number', int: 'number', text: 'string', bool: 'boolean', id: 'id' } as const;
    for (const c of COLUMNS) assert.equal(ztfNames.get(c.name), want[c.kind], c.name);
    assert.equal(ztfNames.get('candid'), 'id');
    assert.equal(ztfNames.get('objectId'), 'string');
    const lsstNames = new Map(surveyFields('lsst').map((f) => [f.name, f.type]));
    for (const c of [...LSST_COLUMNS, ...LSST_ID_COLUMNS]) assert.equal(lsstNames.get(c.name), want[c.kind], c.name);
    assert.equal(lsstNames.get('diaSourceId'), 'id');
  });

  test("an alert's row holds each field at the index the compiler reads it from, and the fields last", () => {
    for (const survey of ['ztf', 'lsst'] as const) {
      const names = surveyFields(survey).map((f) => f.name);
      const fields = Object.fromEntries(names.map((name, i) => [name, `value ${i} of ${name}`]));
      const row = rowOf(survey, fields);
      assert.equal(row.length, names.length + 1);
      for (const name of names) assert.equal(row[fieldIndex(survey, name)], fields[name], `${survey} ${name}`);
      assert.equal(row[fieldsSlot(survey)], fields);
    }
  });

  test('units where a value has one: magnitudes, degrees, days, nJy', () => {
    const unit = (survey: Survey, name: string) => surveyFields(survey).find((f) => f.name === name)?.unit;
    assert.deepEqual([unit('ztf', 'magpsf'), unit('ztf', 'ra'), unit('ztf', 'dec'), unit('ztf', 'jd'), unit('lsst', 'psfFlux'), unit('lsst', 'midpointMjdTai')], ['mag', 'deg', 'deg', 'days', 'nJy', 'days']);
  });
});

describe('the guard: a threshold of the top-level ANDs tried before the tree', () => {
  const checked = (text: string, survey: Survey = 'ztf') => checkCondition(text, parseCondition(text), scopeOf(survey, []));
  const guard = (text: string, survey: Survey = 'ztf') => guardOf(checked(text, survey), survey);
  const at = (name: string) => fieldIndex('ztf', name);

  test('the first conjunct of the top-level ANDs when it is a number field against a number, either side, BETWEEN too', () => {
    assert.deepEqual(guard('magpsf < 18 AND fid = 1'), { at: at('magpsf'), low: -Infinity, high: 18, lowOpen: false, highOpen: true });
    assert.deepEqual(guard("(ndethist >= 2 AND 19 < magpsf) AND isdiffpos = 't'"), { at: at('ndethist'), low: 2, high: Infinity, lowOpen: false, highOpen: false });
    assert.deepEqual(guard('drb BETWEEN 0.5 AND 0.9 AND fid = 2'), { at: at('drb'), low: 0.5, high: 0.9, lowOpen: false, highOpen: false });
    assert.deepEqual(guard('dec > -10'), { at: at('dec'), low: -10, high: Infinity, lowOpen: true, highOpen: false });
    assert.deepEqual(guard('fid = 1'), { at: at('fid'), low: 1, high: 1, lowOpen: false, highOpen: false });
  });

  test('none where the first conjunct is not one: a later one, OR, NOT, NOT BETWEEN, <>, ids, strings, computed values', () => {
    for (const text of ["isdiffpos = 't' AND magpsf < 18", 'magpsf < 18 OR fid = 1', 'NOT magpsf < 18', 'drb NOT BETWEEN 0.5 AND 0.9', 'fid <> 1', 'candid > 5', "cdsxmatch = 'Star'", 'magpsf + 1 < 18', 'magpsf < sigmapsf']) {
      assert.equal(guard(text), undefined, text);
    }
  });

  test('a shipped filter after the guard still throws, and is heard, for every alert that reaches it, as without the guard', () => {
    const boom: Predicate = { name: 'boom', survey: 'ztf', description: 'throws', test: () => { throw new Error('boom'); } };
    let heard = 0;
    const condition = compileCondition('magpsf < 18 AND boom', 'ztf', { predicates: [boom], onError: () => heard++ });
    for (const magpsf of [17, 19, null]) assert.equal(condition.test(alert('ztf', { magpsf })), false);
    assert.equal(heard, 2, 'magpsf 17 reaches boom, 19 stops at the threshold, NULL goes on to boom as the tree does');
  });

  test('with or without the guard, the same alerts match: at the bounds, beyond them, NULL, NaN', () => {
    const texts = ['magpsf < 18 AND fid = 1', 'fid = 1 AND magpsf < 18', 'magpsf <= 18 AND NOT fid = 2', 'magpsf > 18', 'magpsf >= 18 AND drb > 0.5', 'magpsf BETWEEN 17 AND 18', 'fid = 1 AND magpsf IS NULL', '18 > magpsf AND (fid = 1 OR drb < 0.5)'];
    const values = [null, Number.NaN, -Infinity, 16.9, 17, 17.5, 18, 18.000001, 19, Infinity];
    for (const text of texts) {
      const full = compileChecked(checked(text), 'ztf');
      const condition = compileCondition(text, 'ztf');
      for (const magpsf of values) {
        for (const fid of [null, 1, 2]) {
          for (const drb of [null, 0.4, 0.9]) {
            const fields = alert('ztf', { magpsf, fid, drb });
            assert.equal(condition.test(fields), full(rowOf('ztf', fields)) === true, `${text} with magpsf ${magpsf}, fid ${fid}, drb ${drb}`);
          }
        }
      }
    }
  });
});
