// Text from outside (a file name, an objectId, a message key quoted in an error) is printed to a
// terminal: control characters in it could move the cursor, recolour or rewrite the screen, or hide
// text. They are shown escaped instead, so what is printed is what was received, readably.

// C0 controls, DEL, C1 controls, and the Unicode bidirectional overrides and isolates (which reorder
// the text shown after them), line and paragraph separators.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** The text with every control character written as an escape (`\x1b`, `\n`, `\u202e`). */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** The text with every secret given (passwords read back in a tool's output) shown as `********`. */
export function masked(text: string, secrets: readonly (string | undefined)[]): string {
  return secrets.reduce<string>((t, secret) => (secret === undefined || secret === '' ? t : t.split(secret).join('********')), text);
}
