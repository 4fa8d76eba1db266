// fink.conf: KEY=value lines, ${VAR} expanded. Precedence: flag > environment > file > default.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.ts';
import { isKeyName, SPECS, type EnumKeyName, type EnumValue, type KeyName, type KeySpec } from './keys.ts';

export type ConfigValues = Readonly<Partial<Record<KeyName, string>>>;

export interface LoadOptions {
  /** `--conf FILE`; otherwise FINK_CONF, otherwise conf/fink.conf under FINK_HOME when it exists. */
  confFile?: string;
  /** Values given on the command line, by key name. */
  flags?: Partial<Record<KeyName, string>>;
  env?: NodeJS.ProcessEnv;
}

export class Config {
  /** The file values came from, if any (for messages). */
  readonly file: string | undefined;
  readonly #values: ConfigValues;

  constructor(values: ConfigValues, file: string | undefined) {
    this.#values = values;
    this.file = file;
  }

  get(name: KeyName): string | undefined {
    return this.#values[name];
  }

  require(name: KeyName): string {
    const value = this.get(name);
    if (value === undefined || value === '') {
      throw new UsageError(`${name} is not set: set it in ${this.file ?? 'conf/fink.conf'} or in the environment`);
    }
    return value;
  }

  int(name: KeyName): number {
    return Number(this.require(name));
  }

  /** A whole number, or undefined when the key is unset (a key with no default: a port to serve on, a fixed size). */
  optionalInt(name: KeyName): number | undefined {
    return this.get(name) === undefined ? undefined : this.int(name);
  }

  /** An enumerated key's value, typed by the values the table allows (so no caller casts it). */
  enum<K extends EnumKeyName>(name: K): EnumValue<K> {
    const value = this.require(name);
    const spec = SPECS.find((s) => s.name === name);
    // Loaded values were validated; this guards values given to the constructor directly.
    if (spec?.type.kind !== 'enum' || !spec.type.values.includes(value)) throw new UsageError(`${name}=${value}: expected one of ${spec?.type.kind === 'enum' ? spec.type.values.join(', ') : '(not an enumerated key)'}`);
    return value as EnumValue<K>;
  }

  list(name: KeyName): string[] {
    return splitList(this.get(name) ?? '');
  }

  /** Key=value pairs for display; secrets masked. */
  describe(): string[] {
    return SPECS.map((k) => {
      const v = this.#values[k.name];
      const shown = v === undefined ? '(unset)' : k.secret ? '********' : v;
      return `${k.name}=${shown}`;
    });
  }
}

export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The package root: the nearest folder above this module with our package.json (works from src/ and dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && /"name"\s*:\s*"fink-distribution"/.test(readFileSync(manifest, 'utf8'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the fink-distribution package root');
    dir = parent;
  }
}

interface RawValue {
  value: string;
  origin: string;
}

/** Parses KEY=value lines. Unknown keys and malformed lines are errors naming the file and line. */
export function parseConfFile(text: string, file: string): Map<string, RawValue> {
  const out = new Map<string, RawValue>();
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(trimmed);
    if (!m) throw new UsageError(`${file}:${i + 1}: expected KEY=value, got '${trimmed}'`);
    const key = m[1] as string;
    if (!isKeyName(key)) throw new UsageError(`${file}:${i + 1}: unknown configuration key ${key}`);
    out.set(key, { value: unquote(m[2] as string), origin: `${file}:${i + 1}` });
  });
  return out;
}

function unquote(raw: string): string {
  const v = raw.trim();
  if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))) {
    return v.slice(1, -1);
  }
  // A trailing comment after an unquoted value, as in shell.
  return v.replace(/\s+#.*$/, '');
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const flags = options.flags ?? {};
  const home = flags.FINK_HOME ?? env.FINK_HOME ?? packageRoot();

  let file = options.confFile ?? env.FINK_CONF;
  if (file !== undefined) {
    file = resolve(file);
    if (!existsSync(file)) throw new UsageError(`configuration file ${file} does not exist`);
  } else if (existsSync(join(home, 'conf', 'fink.conf'))) {
    file = join(home, 'conf', 'fink.conf');
  }
  const fromFile = file === undefined ? new Map<string, RawValue>() : parseConfFile(readFileSync(file, 'utf8'), file);

  const raw = new Map<string, RawValue>();
  for (const spec of SPECS) {
    const flag = flags[spec.name];
    const fromEnv = env[spec.name];
    if (flag !== undefined) raw.set(spec.name, { value: flag, origin: 'the command line' });
    else if (fromEnv !== undefined) raw.set(spec.name, { value: fromEnv, origin: 'the environment' });
    else if (fromFile.has(spec.name)) raw.set(spec.name, fromFile.get(spec.name) as RawValue);
    else if (spec.name === 'FINK_HOME') raw.set(spec.name, { value: home, origin: 'the default' });
    else if (spec.default !== undefined) raw.set(spec.name, { value: spec.default, origin: 'the default' });
  }

  const resolved = new Map<string, string>();
  const expanding = new Set<string>();
  const expand = (name: string): string | undefined => {
    if (resolved.has(name)) return resolved.get(name);
    const r = raw.get(name);
    if (r === undefined) return undefined;
    if (expanding.has(name)) throw new UsageError(`${name} (${r.origin}) refers to itself through \${...}`);
    expanding.add(name);
    const value = r.value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_all, ref: string) => {
      const v = isKeyName(ref) ? expand(ref) : env[ref];
      if (v === undefined) throw new UsageError(`${name} (${r.origin}) uses \${${ref}}, which is not set`);
      return v;
    });
    expanding.delete(name);
    resolved.set(name, value);
    return value;
  };

  // The file may move FINK_HOME; relative paths follow the home in force, not the one that found the file.
  const effectiveHome = resolve(expand('FINK_HOME') ?? home);
  const values: Record<string, string | undefined> = {};
  for (const spec of SPECS) {
    const v = expand(spec.name);
    values[spec.name] = v === undefined ? undefined : validate(spec, v, raw.get(spec.name)?.origin ?? '', effectiveHome);
  }
  return new Config(values, file);
}

function validate(spec: KeySpec, value: string, origin: string, home: string): string {
  const bad = (what: string) => new UsageError(`${spec.name}=${spec.secret ? '********' : value} (${origin}): ${what}`);
  switch (spec.type.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(value.trim())) throw bad('expected a whole number');
      const n = Number(value);
      if (n < spec.type.min || (spec.type.max !== undefined && n > spec.type.max)) {
        throw bad(`expected a number from ${spec.type.min}${spec.type.max !== undefined ? ` to ${spec.type.max}` : ' up'}`);
      }
      return String(n);
    }
    case 'enum':
      if (!spec.type.values.includes(value)) throw bad(`expected one of ${spec.type.values.join(', ')}`);
      return value;
    case 'path':
      if (value === '') return value;
      return isAbsolute(value) ? value : resolve(home, value);
    case 'list':
      if (splitList(value).length === 0) throw bad('expected a comma-separated list');
      return value;
    case 'string':
      return value;
  }
}
