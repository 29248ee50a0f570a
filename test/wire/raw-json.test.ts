import { describe, expect, it } from "vitest";
import { prng } from "../../bench/support/records.ts";
import { recordTexts } from "../../src/wire/raw-json.ts";

/** A random JSON value, with awkward strings (quotes, backslash runs, brackets, unicode). */
function randomValue(random: () => number, depth: number): unknown {
  const pick = (n: number) => Math.floor(random() * n);
  const strings = ['a"b', "c\\", "\\\\", '\\"', "[{]}", ",:", "é\u2028𝄞", "", " spaced ", "\n\t", '"'];
  switch (depth > 3 ? pick(4) : pick(7)) {
    case 0:
      return strings[pick(strings.length)];
    case 1:
      return [0, -1.5, 1e21, 3.25e-7, 42][pick(5)];
    case 2:
      return [true, false, null][pick(3)];
    case 3:
      return `s${pick(1000)}`;
    case 4:
      return Array.from({ length: pick(4) }, () => randomValue(random, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = pick(5); i > 0; i--)
        o[strings[pick(strings.length)]! + pick(9)] = randomValue(random, depth + 1);
      return o;
    }
  }
}

/** JSON.stringify with random whitespace between tokens (outside strings). */
function spaced(value: unknown, random: () => number): string {
  const ws = () => [" ", "\n", "\t", "\r\n  ", ""][Math.floor(random() * 5)]!;
  if (Array.isArray(value))
    return `[${ws()}${value.map((v) => spaced(v, random)).join(`${ws()},${ws()}`)}${ws()}]`;
  if (value !== null && typeof value === "object") {
    const parts = Object.entries(value).map(
      ([k, v]) => `${JSON.stringify(k)}${ws()}:${ws()}${spaced(v, random)}`,
    );
    return `{${ws()}${parts.join(`${ws()},${ws()}`)}${ws()}}`;
  }
  return JSON.stringify(value);
}

describe("recordTexts", () => {
  it("finds every record of 2,000 random bodies, compact or spaced, exactly as JSON.parse reads them", () => {
    const random = prng(7);
    for (let n = 0; n < 2000; n++) {
      const records = Array.from({ length: Math.floor(random() * 5) }, () => randomValue(random, 0));
      const body: Record<string, unknown> = {};
      if (random() < 0.5) body.before = randomValue(random, 1);
      body.Records = records;
      if (random() < 0.5) body.after = randomValue(random, 1);
      const compact = random() < 0.5;
      const text = compact ? JSON.stringify(body) : spaced(body, random);
      const found = recordTexts(text);
      expect(found, text).toBeDefined();
      expect(found!.length, text).toBe(records.length);
      for (const [i, r] of found!.entries()) {
        const slice = text.slice(r.start, r.end);
        expect(JSON.parse(slice), text).toEqual(JSON.parse(JSON.stringify(records[i])));
        if (compact) {
          expect(r.compact, slice).toBe(true);
          expect(slice).toBe(JSON.stringify(records[i]));
        }
        // a record without whitespace between its tokens is exactly what JSON.stringify writes
        if (r.compact) expect(slice).toBe(JSON.stringify(records[i]));
      }
    }
  });

  it("calls a record spaced when it has whitespace between its tokens", () => {
    const text = '{"Records":[{"a":1}, {"a" :1},{"a":[1, 2]},{"a":"x y"}]}';
    expect(recordTexts(text)?.map((r) => r.compact)).toEqual([true, false, false, true]);
  });

  it.each([
    ['{"Records":[]}', 0],
    [' \n{ "Records" : [ ] } ', 0],
    ['{"x":{"Records":[1]},"Records":[{"a":"]"}]}', 1],
  ])("reads %j", (text, count) => {
    expect(recordTexts(text)?.length).toBe(count);
  });

  it.each([['{"Records":[1],"Records":[2]}'], ['{"\\u0052ecords":[1]}'], ['{"Records":{}}'], ["[]"], ["{}"]])(
    "gives up on %j",
    (text) => {
      expect(recordTexts(text)).toBeUndefined();
    },
  );
});
