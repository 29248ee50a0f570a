import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/api/errors.ts";
import { mergeTags, removeTagKeys, validateTagsList } from "../../src/domain/tags.ts";
import type { TagEntry } from "../../src/domain/trail.ts";

/** Matches a thrown CloudTrailError by code and exact message. */
const error = (code: ErrorCode, message: string) => expect.objectContaining({ name: code, code, message });
const badTag = (message: string) => error("InvalidTagParameterException", message);

const EMOJI = "\u{1F600}"; // one Unicode character, two UTF-16 code units

/** n distinct tags k0..k(n-1) with values v0.. */
function tags(n: number, prefix = "k"): TagEntry[] {
  return Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: `v${i}` }));
}

describe("validateTagsList", () => {
  it("treats a missing list as no tags", () => {
    expect(validateTagsList(undefined)).toEqual([]);
    expect(validateTagsList([])).toEqual([]);
  });

  it("maps wire tags to entries, keeping the request order", () => {
    expect(
      validateTagsList([
        { Key: "b", Value: "2" },
        { Key: "a", Value: "1" },
      ]),
    ).toStrictEqual([
      { key: "b", value: "2" },
      { key: "a", value: "1" },
    ]);
  });

  it("keeps a tag sent without Value without a value", () => {
    expect(validateTagsList([{ Key: "team" }])).toStrictEqual([{ key: "team" }]);
  });

  it("keeps an empty Value as a value", () => {
    expect(validateTagsList([{ Key: "team", Value: "" }])).toStrictEqual([{ key: "team", value: "" }]);
  });

  it.each([
    ["a 1-character key", "k", "v"],
    ["a 128-character key", "k".repeat(128), "v"],
    ["a key of 128 Unicode characters (256 UTF-16 units)", EMOJI.repeat(128), "v"],
    ["a 256-character value", "k", "v".repeat(256)],
    ["a value of 256 Unicode characters", "k", EMOJI.repeat(256)],
    ["aws: not at the start", "x:aws:y", "v"],
    ["a key starting with aws but no colon", "awsome", "v"],
  ])("accepts %s", (_why, key, value) => {
    expect(validateTagsList([{ Key: key, Value: value }])).toStrictEqual([{ key, value }]);
  });

  it("accepts keys that differ only in case", () => {
    expect(validateTagsList([{ Key: "Env" }, { Key: "env" }])).toHaveLength(2);
  });

  it("accepts 200 tags in one request", () => {
    const list = Array.from({ length: 200 }, (_, i) => ({ Key: `k${i}` }));
    expect(validateTagsList(list)).toHaveLength(200);
  });

  it.each<[string, { Key?: string; Value?: string }[], string]>([
    ["a missing key", [{ Value: "v" }], "Tag key cannot be empty."],
    ["an empty key", [{ Key: "", Value: "v" }], "Tag key cannot be empty."],
    [
      "a 129-character key",
      [{ Key: "k".repeat(129) }],
      "Tag key too long. Maximum allowed length: 128 characters. Specified key length: 129 characters.",
    ],
    [
      "a key of 129 Unicode characters",
      [{ Key: EMOJI.repeat(129) }],
      "Tag key too long. Maximum allowed length: 128 characters. Specified key length: 129 characters.",
    ],
    [
      "a 257-character value",
      [{ Key: "k", Value: "v".repeat(257) }],
      "Tag value too long. Maximum allowed length: 256 characters. Specified value length: 257 characters.",
    ],
    [
      "a value of 257 Unicode characters",
      [{ Key: "k", Value: EMOJI.repeat(257) }],
      "Tag value too long. Maximum allowed length: 256 characters. Specified value length: 257 characters.",
    ],
    [
      "a key beginning with aws:",
      [{ Key: "aws:cloudformation:stack-name", Value: "s" }],
      "Tag key aws:cloudformation:stack-name is reserved: keys beginning with aws: are for AWS use.",
    ],
    [
      "a key beginning with AWS: in upper case",
      [{ Key: "AWS:x" }],
      "Tag key AWS:x is reserved: keys beginning with aws: are for AWS use.",
    ],
    [
      "a duplicate key",
      [{ Key: "env", Value: "a" }, { Key: "team" }, { Key: "env", Value: "b" }],
      "Tag key env appears more than once in the request.",
    ],
    [
      "a duplicate key with the same value",
      [
        { Key: "env", Value: "a" },
        { Key: "env", Value: "a" },
      ],
      "Tag key env appears more than once in the request.",
    ],
    ["a bad tag after good ones", [{ Key: "ok" }, { Key: "" }], "Tag key cannot be empty."],
    [
      "a too-long key that also begins with aws: (length first)",
      [{ Key: `aws:${"k".repeat(125)}` }],
      "Tag key too long. Maximum allowed length: 128 characters. Specified key length: 129 characters.",
    ],
    [
      "a reserved key with a too-long value (key first)",
      [{ Key: "aws:x", Value: "v".repeat(257) }],
      "Tag key aws:x is reserved: keys beginning with aws: are for AWS use.",
    ],
    [
      "201 tags",
      Array.from({ length: 201 }, (_, i) => ({ Key: `k${i}` })),
      "The request contains 201 tags; at most 200 are allowed.",
    ],
    [
      "201 tags, some invalid (the count is checked first)",
      Array.from({ length: 201 }, () => ({ Key: "" })),
      "The request contains 201 tags; at most 200 are allowed.",
    ],
  ])("rejects %s", (_why, list, message) => {
    expect(() => validateTagsList(list)).toThrow(badTag(message));
  });
});

describe("mergeTags", () => {
  const limit = error(
    "TagsLimitExceededException",
    "The number of tags per trail has exceeded the permitted amount. Currently, the limit is 50.",
  );

  it("replaces the value of an existing key in place and appends new keys", () => {
    const existing = [
      { key: "a", value: "1" },
      { key: "b", value: "2" },
    ];
    expect(
      mergeTags(existing, [
        { key: "b", value: "3" },
        { key: "c", value: "4" },
      ]),
    ).toStrictEqual([
      { key: "a", value: "1" },
      { key: "b", value: "3" },
      { key: "c", value: "4" },
    ]);
  });

  it("drops the value of an existing key re-added without one", () => {
    expect(mergeTags([{ key: "a", value: "1" }], [{ key: "a" }])).toStrictEqual([{ key: "a" }]);
  });

  it("leaves its inputs unchanged", () => {
    const existing = [{ key: "a", value: "1" }];
    const added = [{ key: "a", value: "2" }];
    mergeTags(existing, added);
    expect(existing).toStrictEqual([{ key: "a", value: "1" }]);
    expect(added).toStrictEqual([{ key: "a", value: "2" }]);
  });

  it.each([
    ["nothing added to nothing", 0, 0, 0],
    ["50 new tags", 0, 50, 50],
    ["49 existing and 1 new", 49, 1, 50],
    ["50 existing and nothing", 50, 0, 50],
  ])("allows %s", (_why, before, added, after) => {
    expect(mergeTags(tags(before), tags(added, "n"))).toHaveLength(after);
  });

  it("allows overwriting at the limit, since the count does not grow", () => {
    const full = tags(50);
    const merged = mergeTags(full, [{ key: "k7", value: "new" }]);
    expect(merged).toHaveLength(50);
    expect(merged[7]).toStrictEqual({ key: "k7", value: "new" });
  });

  it.each([
    ["51 new tags", 0, 51],
    ["50 existing and 1 new", 50, 1],
    ["30 existing and 21 new", 30, 21],
  ])("refuses %s", (_why, before, added) => {
    expect(() => mergeTags(tags(before), tags(added, "n"))).toThrow(limit);
  });

  it("counts a key sent twice once", () => {
    expect(mergeTags(tags(49), [...tags(1, "n"), ...tags(1, "n")])).toHaveLength(50);
  });
});

describe("removeTagKeys", () => {
  const existing: TagEntry[] = [{ key: "a", value: "1" }, { key: "b" }, { key: "c", value: "3" }];

  it.each<[string, TagEntry[], TagEntry[]]>([
    ["nothing", [], existing],
    [
      "a key, whatever value is sent",
      [{ key: "a", value: "other" }],
      [{ key: "b" }, { key: "c", value: "3" }],
    ],
    ["a key sent without value", [{ key: "c" }], [{ key: "a", value: "1" }, { key: "b" }]],
    ["an unknown key (ignored)", [{ key: "zz" }], existing],
    ["every key", [{ key: "c" }, { key: "a" }, { key: "b" }], []],
    ["keys case-sensitively", [{ key: "A" }], existing],
  ])("removes %s", (_why, removed, expected) => {
    expect(removeTagKeys(existing, removed)).toStrictEqual(expected);
  });

  it("leaves its input unchanged", () => {
    removeTagKeys(existing, [{ key: "a" }]);
    expect(existing).toHaveLength(3);
  });
});
