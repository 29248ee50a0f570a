import { describe, expect, it } from "vitest";
import { encodeOutput, toWire } from "../../src/wire/encode.ts";

describe("output encoding", () => {
  it("writes timestamps as epoch seconds with at most three decimals", () => {
    expect(encodeOutput({ T: new Date("2016-01-29T11:15:44.869Z") })).toBe('{"T":1454066144.869}');
    expect(encodeOutput({ T: new Date("2020-01-01T00:00:00Z") })).toBe('{"T":1577836800}');
    expect(encodeOutput({ T: new Date("2020-01-01T00:00:00.100Z") })).toBe('{"T":1577836800.1}');
  });

  it("writes bytes as standard padded base64, Buffers and views included", () => {
    const bytes = new Uint8Array([0xfb, 0xff, 0x00, 0x10, 0x20]);
    expect(toWire(bytes)).toBe("+/8AECA=");
    expect(toWire(Buffer.from([1, 2]))).toBe("AQI=");
    expect(toWire(new Uint8Array([9, 1, 2, 9]).subarray(1, 3))).toBe("AQI=");
  });

  it("never writes null: absent members and list elements are left out", () => {
    expect(
      encodeOutput({
        a: undefined,
        b: null,
        c: [1, null, undefined, 2],
        d: { e: undefined },
        f: Number.NaN,
        g: "",
        h: false,
        i: 0,
      }),
    ).toBe('{"c":[1,2],"d":{},"g":"","h":false,"i":0}');
  });

  it("answers {} for an empty output and keeps a member named __proto__ as a member", () => {
    expect(encodeOutput(undefined)).toBe("{}");
    expect(encodeOutput(null)).toBe("{}");
    expect(encodeOutput(JSON.parse('{"__proto__":{"x":1}}'))).toBe('{"__proto__":{"x":1}}');
  });

  it("leaves out an invalid Date instead of writing null", () => {
    expect(encodeOutput({ T: new Date(Number.NaN), U: [new Date(0)] })).toBe('{"U":[0]}');
  });
});
