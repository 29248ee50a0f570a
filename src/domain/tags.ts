import { fail } from "../api/errors.ts";
import { tagsLimitExceeded } from "../api/messages.ts";
import type { TagEntry } from "./trail.ts";

/** Limits of the Tag shape and of TagsList (API model), and of tags kept on one trail. */
export const TAG_KEY_MAX = 128;
export const TAG_VALUE_MAX = 256;
export const TAGS_PER_REQUEST_MAX = 200;
export const TAGS_PER_TRAIL_MAX = 50;

// The API reference counts tag lengths in Unicode characters, so a surrogate pair counts once.
function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function badTag(message: string) {
  return fail("InvalidTagParameterException", message);
}

/**
 * TagsList of CreateTrail, AddTags and RemoveTags. A tag sent without Value keeps no value; an
 * empty Value is a value (the CloudFormation schema of CloudTrail tags allows length 0).
 */
export function validateTagsList(list: { Key?: string; Value?: string }[] | undefined): TagEntry[] {
  if (list === undefined) return [];
  if (list.length > TAGS_PER_REQUEST_MAX) {
    throw badTag(`The request contains ${list.length} tags; at most ${TAGS_PER_REQUEST_MAX} are allowed.`);
  }
  const seen = new Set<string>();
  const out: TagEntry[] = [];
  for (const { Key: key, Value: value } of list) {
    if (key === undefined || key === "") throw badTag("Tag key cannot be empty.");
    const keyLength = codePoints(key);
    if (keyLength > TAG_KEY_MAX) {
      throw badTag(
        `Tag key too long. Maximum allowed length: ${TAG_KEY_MAX} characters. Specified key length: ${keyLength} characters.`,
      );
    }
    // Reserved for AWS in every service; matched regardless of case, as AWS does.
    if (key.toLowerCase().startsWith("aws:")) {
      throw badTag(`Tag key ${key} is reserved: keys beginning with aws: are for AWS use.`);
    }
    if (value !== undefined) {
      const valueLength = codePoints(value);
      if (valueLength > TAG_VALUE_MAX) {
        throw badTag(
          `Tag value too long. Maximum allowed length: ${TAG_VALUE_MAX} characters. Specified value length: ${valueLength} characters.`,
        );
      }
    }
    if (seen.has(key)) throw badTag(`Tag key ${key} appears more than once in the request.`);
    seen.add(key);
    out.push(value === undefined ? { key } : { key, value });
  }
  return out;
}

/** AddTags: same key replaces the value (or drops it when none is given), new keys go last. */
export function mergeTags(existing: TagEntry[], added: TagEntry[]): TagEntry[] {
  const byKey = new Map<string, TagEntry>(existing.map((t) => [t.key, t]));
  for (const tag of added) byKey.set(tag.key, tag);
  if (byKey.size > TAGS_PER_TRAIL_MAX) throw tagsLimitExceeded(TAGS_PER_TRAIL_MAX);
  return [...byKey.values()];
}

/** RemoveTags removes by key; a Value sent along does not have to match, and unknown keys are ignored. */
export function removeTagKeys(existing: TagEntry[], removed: TagEntry[]): TagEntry[] {
  const gone = new Set(removed.map((t) => t.key));
  return existing.filter((t) => !gone.has(t.key));
}
