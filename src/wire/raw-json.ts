/**
 * Where each record of a log file body (`{"Records":[…]}`) is in its text, so that a record sent
 * compact can be stored as the very text it came in, sparing a JSON.stringify per record (a tenth
 * of an ingest thread's time). Only a document JSON.parse has already accepted is scanned, so the
 * scanner need not report errors: it gives up (undefined) on anything it does not expect.
 */

export interface RecordText {
  start: number;
  end: number;
  /** No whitespace between its tokens: the text is what JSON.stringify would write for its layout. */
  compact: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const SPACE = 0x20;

/** The index just past the string whose opening quote is at `at`. */
function stringEnd(text: string, at: number): number {
  let i = at + 1;
  for (;;) {
    const q = text.indexOf('"', i);
    if (q < 0) return text.length;
    // a quote after an odd run of backslashes is escaped
    let b = q - 1;
    while (text.charCodeAt(b) === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    i = q + 1;
  }
}

interface Scan {
  /** Index after the value. */
  end: number;
  /** Whitespace seen between tokens of the value. */
  spaced: boolean;
}

/** Skips the value starting at `at` (no whitespace before it). */
function skipValue(text: string, at: number): Scan {
  const c = text.charCodeAt(at);
  if (c === QUOTE) return { end: stringEnd(text, at), spaced: false };
  if (c !== OPEN_BRACE && c !== OPEN_BRACKET) {
    // a number, true, false or null: up to the next structural character or whitespace
    let i = at;
    for (;;) {
      const d = text.charCodeAt(i);
      if (Number.isNaN(d) || d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || d <= SPACE) {
        return { end: i, spaced: false };
      }
      i++;
    }
  }
  let depth = 0;
  let spaced = false;
  let i = at;
  while (i < text.length) {
    const d = text.charCodeAt(i);
    if (d === QUOTE) {
      i = stringEnd(text, i);
      continue;
    }
    if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
    else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return { end: i + 1, spaced };
    } else if (d <= SPACE) spaced = true;
    i++;
  }
  return { end: text.length, spaced };
}

function skipSpace(text: string, at: number): number {
  let i = at;
  while (i < text.length && text.charCodeAt(i) <= SPACE) i++;
  return i;
}

/**
 * The text of each element of the top-level "Records" list, in order; undefined when the body
 * has another shape than one plainly written "Records" key holding a list.
 */
export function recordTexts(text: string): RecordText[] | undefined {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return undefined;
  i = skipSpace(text, i + 1);
  let found: RecordText[] | undefined;
  if (text.charCodeAt(i) === CLOSE_BRACE) return undefined;
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return undefined;
    const keyEnd = stringEnd(text, i);
    const key = text.slice(i + 1, keyEnd - 1);
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return undefined;
    i = skipSpace(text, i + 1);
    if (key === "Records") {
      // JSON.parse keeps the last of two: too unusual to follow
      if (found !== undefined || text.charCodeAt(i) !== OPEN_BRACKET) return undefined;
      found = [];
      i = skipSpace(text, i + 1);
      if (text.charCodeAt(i) === CLOSE_BRACKET) i++;
      else {
        for (;;) {
          const { end, spaced } = skipValue(text, i);
          found.push({ start: i, end, compact: !spaced });
          i = skipSpace(text, end);
          const sep = text.charCodeAt(i);
          if (sep === CLOSE_BRACKET) {
            i++;
            break;
          }
          if (sep !== COMMA) return undefined;
          i = skipSpace(text, i + 1);
        }
      }
    } else if (key.includes("\\")) {
      // an escaped key could spell "Records"
      return undefined;
    } else {
      i = skipValue(text, i).end;
    }
    i = skipSpace(text, i);
    const sep = text.charCodeAt(i);
    if (sep === CLOSE_BRACE) return found;
    if (sep !== COMMA) return undefined;
    i = skipSpace(text, i + 1);
  }
}
