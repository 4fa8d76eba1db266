// A user filter's registration: who asked for what, and the topic it fills. Names go into a topic
// name and a record key, so they are held to what Kafka and the key's separators allow; the record
// is JSON, read back as hostile (another writer of the topic may have put anything there).
import { SURVEYS, type Survey } from '../alert/survey.ts';
import { printable } from '../printable.ts';

/** `full`: the whole alert, as the science topics; `light`: no cutouts nor histories, as the light topics. */
export const CONTENTS = ['full', 'light'] as const;
export type Content = (typeof CONTENTS)[number];

export interface Registration {
  owner: string;
  name: string;
  survey: Survey;
  /** The condition's text as the user wrote it (compiled again by whoever reads it). */
  where: string;
  content: Content;
  /** Megabytes per night; null for the operator's default. */
  quotaMb: number | null;
  /** ISO time of the add. */
  created: string;
  topic: string;
}

/** The owner when none is given (open mode). */
export const PUBLIC_OWNER = 'public';
/** Lower-case letters, digits and underscores, starting with a letter or digit: safe in a topic name, a key and a group prefix. */
const NAME_PATTERN = /^[a-z0-9][a-z0-9_]*$/;
export const MAX_FILTER_NAME = 48;
export const MAX_OWNER = 32;

/** What is wrong with a filter or owner name, or undefined when it is fine. */
export function nameProblem(what: 'name' | 'owner', value: string): string | undefined {
  const max = what === 'name' ? MAX_FILTER_NAME : MAX_OWNER;
  if (value.length === 0) return `the ${what} is empty`;
  if (value.length > max) return `the ${what} is ${value.length} characters long, at most ${max}`;
  if (!NAME_PATTERN.test(value)) return `the ${what} '${printable(value.slice(0, max + 8))}' may hold only a-z, 0-9 and _ (not first)`;
  return undefined;
}

/** The topic a filter fills: `${prefix}<owner>_<name>_<survey>`. */
export function userTopic(prefix: string, owner: string, name: string, survey: Survey): string {
  return `${prefix}${owner}_${name}_${survey}`;
}

/** The registration's key in the registrations topic (`/` cannot occur in a name). */
export function registrationKey(owner: string, name: string, survey: Survey): string {
  return `${owner}/${name}/${survey}`;
}

export function encodeRegistration(r: Registration): Buffer {
  const { owner, name, survey, where, content, quotaMb, created, topic } = r;
  return Buffer.from(JSON.stringify({ owner, name, survey, where, content, quotaMb, created, topic }));
}

const isText = (v: unknown): v is string => typeof v === 'string';

/** A registration from its record (key and JSON value), or what is wrong with it. */
export function parseRegistration(key: string, value: Buffer): Registration | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'not a JSON object';
  const { owner, name, survey, where, content, quotaMb, created, topic } = parsed as Record<string, unknown>;
  if (!isText(owner) || nameProblem('owner', owner) !== undefined) return "no valid 'owner'";
  if (!isText(name) || nameProblem('name', name) !== undefined) return "no valid 'name'";
  if (!isText(survey) || !(SURVEYS as readonly string[]).includes(survey)) return "no valid 'survey'";
  if (key !== registrationKey(owner, name, survey as Survey)) return `its key is not ${registrationKey(owner, name, survey as Survey)}`;
  if (!isText(where)) return "no 'where' text";
  if (!isText(content) || !(CONTENTS as readonly string[]).includes(content)) return "no valid 'content'";
  if (quotaMb !== null && !(typeof quotaMb === 'number' && Number.isFinite(quotaMb) && quotaMb > 0)) return "'quotaMb' is neither null nor a positive number";
  if (!isText(created) || !isText(topic)) return "no 'created' or 'topic' text";
  return { owner, name, survey: survey as Survey, where, content: content as Content, quotaMb, created, topic };
}
