/**
 * Output encoding of AWS JSON 1.1: timestamps as epoch seconds (millisecond precision), blobs as
 * standard base64, and no nulls — a member without a value is left out.
 */
export function toWire(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? undefined : ms / 1000;
  }
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      const encoded = toWire(item);
      if (encoded !== undefined) out.push(encoded);
    }
    return out;
  }
  if (typeof value === "object") {
    // No prototype, so a member literally named "__proto__" stays a plain member.
    const out: Record<string, unknown> = Object.create(null);
    for (const [key, member] of Object.entries(value)) {
      const encoded = toWire(member);
      if (encoded !== undefined) out[key] = encoded;
    }
    return out;
  }
  // bigint, functions and symbols have no JSON 1.1 form.
  return undefined;
}

/** The response body of an operation; an empty or absent output is `{}`. */
export function encodeOutput(output: unknown): string {
  const encoded = toWire(output);
  return JSON.stringify(encoded !== null && typeof encoded === "object" ? encoded : {});
}
