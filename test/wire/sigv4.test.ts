import { describe, expect, it } from "vitest";
import { DevelopmentCredentialStore } from "../../src/adapters/credentials.ts";
import { formatAmzDate, parseAmzDate } from "../../src/wire/sigv4.ts";
import { BOTO_PREFIX, credentialStore, HOST, json, NOW, raw, signed, stubService, wireWith } from "./sign.ts";

const MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

async function answer(req: Parameters<ReturnType<typeof wireWith>["handle"]>[0]) {
  const service = stubService();
  const { handle } = wireWith(service);
  const res = await handle(req);
  return { res, body: json(res), calls: service.calls };
}

async function expectError(
  req: Parameters<ReturnType<typeof wireWith>["handle"]>[0],
  code: string,
  message: string,
  status = 400,
) {
  const { res, body, calls } = await answer(req);
  expect(body).toEqual({ __type: code, message });
  expect(res.status).toBe(status);
  expect(res.headers["x-amzn-errortype"]).toBe(code);
  expect(calls).toHaveLength(0);
}

/** A correctly signed request with one header replaced. */
async function withHeader(name: string, value: string | undefined) {
  const req = await signed();
  if (value === undefined) delete req.headers[name];
  else req.headers[name] = value;
  return req;
}

const BASE_HEADERS = {
  host: HOST,
  "content-type": "application/x-amz-json-1.1",
  "x-amz-target": "CloudTrail_20131101.ListTrails",
  "x-amz-date": formatAmzDate(NOW),
};

describe("SigV4: accepted requests", () => {
  it("accepts the JS SDK form (x-amz-content-sha256 signed)", async () => {
    const req = await signed();
    expect(req.headers.authorization).toContain("x-amz-content-sha256");
    const { res, calls } = await answer(req);
    expect(res.status).toBe(200);
    expect(calls[0]!.ctx.region).toBe("us-east-1");
  });

  it("accepts the botocore form (no content hash header) with the long target prefix", async () => {
    const req = await signed({ style: "botocore", target: `${BOTO_PREFIX}.ListTrails` });
    expect(req.headers["x-amz-content-sha256"]).toBeUndefined();
    expect((await answer(req)).res.status).toBe(200);
  });

  it("takes the current region from the credential scope", async () => {
    const { calls } = await answer(await signed({ region: "us-west-2" }));
    expect(calls[0]!.ctx.region).toBe("us-west-2");
    expect(calls[0]!.ctx.accountId).toBe("111122223333");
    expect(calls[0]!.ctx.principal.accessKeyId).toBe("AKIDTEST");
  });

  it("canonicalises exactly the headers named in SignedHeaders, including ones smithy leaves out", async () => {
    const req = await signed({
      extraHeaders: { "user-agent": "aws-cli/2.9", "x-custom": "a   b" },
      signableHeaders: ["user-agent", "x-custom"],
    });
    expect(req.headers.authorization).toContain("user-agent");
    expect((await answer(req)).res.status).toBe(200);
  });

  it("ignores headers that were not signed", async () => {
    const req = await signed();
    req.headers["amz-sdk-request"] = "attempt=2";
    expect((await answer(req)).res.status).toBe(200);
  });

  it("accepts a request 14 minutes old and one 14 minutes ahead", async () => {
    for (const offset of [-14, 14]) {
      const date = new Date(NOW.getTime() + offset * 60_000);
      expect((await answer(await signed({ date }))).res.status).toBe(200);
    }
  });

  it("accepts a session credential with its token", async () => {
    const req = await signed({ accessKeyId: "ASIATEMP", sessionToken: "the-session-token" });
    expect(req.headers.authorization).toContain("x-amz-security-token");
    expect((await answer(req)).res.status).toBe(200);
  });
});

describe("SigV4: every failure, with AWS's code and message", () => {
  it("no Authorization header → MissingAuthenticationTokenException (403)", async () => {
    await expectError(
      await withHeader("authorization", undefined),
      "MissingAuthenticationTokenException",
      "Request is missing Authentication Token",
      403,
    );
  });

  it("an Authorization header that is not AWS4 → MissingAuthenticationTokenException", async () => {
    await expectError(
      await withHeader("authorization", "Bearer abc.def"),
      "MissingAuthenticationTokenException",
      "Request is missing Authentication Token",
      403,
    );
  });

  it("a parameter without '=' → IncompleteSignatureException", async () => {
    const header = "AWS4-HMAC-SHA256 Credential, SignedHeaders=host, Signature=abc";
    await expectError(
      raw({ ...BASE_HEADERS, authorization: header }),
      "IncompleteSignatureException",
      `'Credential' not a valid key=value pair (missing equal-sign) in Authorization header: '${header}'`,
    );
  });

  it("missing parts and date → one IncompleteSignatureException listing all of them", async () => {
    const header = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240301/us-east-1/cloudtrail/aws4_request";
    const { "x-amz-date": _, ...noDate } = BASE_HEADERS;
    await expectError(
      raw({ ...noDate, authorization: header }),
      "IncompleteSignatureException",
      "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. " +
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. " +
        `Authorization=${header}`,
    );
  });

  it("an X-Amz-Date not in basic ISO-8601 form → IncompleteSignatureException", async () => {
    await expectError(
      await withHeader("x-amz-date", "2024-03-01T12:00:00Z"),
      "IncompleteSignatureException",
      "Date must be in ISO-8601 'basic format'. Got '2024-03-01T12:00:00Z'. See http://en.wikipedia.org/wiki/ISO_8601",
    );
  });

  it("a request more than 15 minutes old → Signature expired", async () => {
    await expectError(
      await signed({ date: new Date("2024-03-01T11:40:00Z") }),
      "InvalidSignatureException",
      "Signature expired: 20240301T114000Z is now earlier than 20240301T114500Z (20240301T120000Z - 15 min.)",
    );
  });

  it("a request more than 15 minutes ahead → Signature not yet current", async () => {
    await expectError(
      await signed({ date: new Date("2024-03-01T12:20:00Z") }),
      "InvalidSignatureException",
      "Signature not yet current: 20240301T122000Z is still later than 20240301T121500Z (20240301T120000Z + 15 min.)",
    );
  });

  it("Host not signed → InvalidSignatureException", async () => {
    const req = await signed();
    req.headers.authorization = req.headers.authorization!.replace(/SignedHeaders=[^,]*/, (m) =>
      m.replace("host;", ""),
    );
    await expectError(
      req,
      "InvalidSignatureException",
      "'Host' must be a 'SignedHeader' in the AWS Authorization.",
    );
  });

  it("an X-Amz-Target added after signing → InvalidSignatureException, the call is not made", async () => {
    // signed as a call without a target, then re-targeted: the probe turned GetTrail into DeleteTrail
    const req = await signed({ target: null, body: '{"Name":"t"}' });
    req.headers["x-amz-target"] = "CloudTrail_20131101.DeleteTrail";
    await expectError(
      req,
      "InvalidSignatureException",
      "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.",
    );
  });

  it("any other unsigned x-amz-* header → InvalidSignatureException naming it", async () => {
    const req = await signed();
    req.headers["x-amz-meta-note"] = "added in flight";
    await expectError(
      req,
      "InvalidSignatureException",
      "'X-Amz-Meta-Note' must be a 'SignedHeader' in the AWS Authorization.",
    );
  });

  it("another algorithm → IncompleteSignatureException", async () => {
    const req = await signed();
    req.headers.authorization = req.headers.authorization!.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512");
    await expectError(
      req,
      "IncompleteSignatureException",
      "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now).",
    );
  });

  it("a credential without five elements → IncompleteSignatureException", async () => {
    const req = await signed();
    req.headers.authorization = req.headers.authorization!.replace("/cloudtrail/aws4_request", "/cloudtrail");
    await expectError(
      req,
      "IncompleteSignatureException",
      "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDTEST/20240301/us-east-1/cloudtrail'",
    );
  });

  it("scoped to another service → InvalidSignatureException", async () => {
    await expectError(
      await signed({ service: "s3" }),
      "InvalidSignatureException",
      "Credential should be scoped to correct service: 'cloudtrail'.",
    );
  });

  it("scoped to a region this deployment does not serve → InvalidSignatureException", async () => {
    await expectError(
      await signed({ region: "eu-west-3" }),
      "InvalidSignatureException",
      "Credential should be scoped to a valid region, not 'eu-west-3'.",
    );
  });

  it("scope date ≠ X-Amz-Date date, bad terminator, all at once → one message", async () => {
    const req = await signed({ region: "mars-1", service: "sqs" });
    req.headers.authorization = req.headers
      .authorization!.replace("/20240301/", "/20240229/")
      .replace("aws4_request", "aws5_request");
    await expectError(
      req,
      "InvalidSignatureException",
      "Credential should be scoped to a valid region, not 'mars-1'. " +
        "Credential should be scoped to correct service: 'cloudtrail'. " +
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. " +
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240229' != '20240301', from '20240301T120000Z'.",
    );
  });

  it("an unknown access key → UnrecognizedClientException", async () => {
    await expectError(
      await signed({ accessKeyId: "AKIDNOBODY", secretAccessKey: "x" }),
      "UnrecognizedClientException",
      "The security token included in the request is invalid.",
    );
  });

  it("the wrong secret → InvalidSignatureException", async () => {
    await expectError(await signed({ secretAccessKey: "wrong" }), "InvalidSignatureException", MISMATCH);
  });

  it("a signed header changed in transit → InvalidSignatureException", async () => {
    const req = await signed({ style: "botocore" });
    req.headers["x-amz-target"] = "CloudTrail_20131101.DeleteTrail";
    await expectError(req, "InvalidSignatureException", MISMATCH);
  });

  it("a body changed in transit (botocore form) → InvalidSignatureException", async () => {
    const req = await signed({ style: "botocore", body: '{"NextToken":"a"}' });
    req.body = Buffer.from('{"NextToken":"b"}');
    await expectError(req, "InvalidSignatureException", MISMATCH);
  });

  it("a body changed while the signed x-amz-content-sha256 still names the old one → InvalidSignatureException", async () => {
    // The signature is valid for the declared hash; only checking the hash against the body catches this.
    const req = await signed({ body: '{"NextToken":"a"}' });
    req.body = Buffer.from('{"NextToken":"b"}');
    await expectError(req, "InvalidSignatureException", MISMATCH);
  });

  it("a forged signature of the right length → InvalidSignatureException", async () => {
    const req = await signed();
    req.headers.authorization = req.headers.authorization!.replace(
      /Signature=[0-9a-f]+/,
      `Signature=${"0".repeat(64)}`,
    );
    await expectError(req, "InvalidSignatureException", MISMATCH);
  });

  it("a session credential without its token → UnrecognizedClientException", async () => {
    await expectError(
      await signed({ accessKeyId: "ASIATEMP" }),
      "UnrecognizedClientException",
      "The security token included in the request is invalid",
    );
  });

  it("a session credential with another token → UnrecognizedClientException", async () => {
    await expectError(
      await signed({ accessKeyId: "ASIATEMP", sessionToken: "stolen" }),
      "UnrecognizedClientException",
      "The security token included in the request is invalid",
    );
  });

  it("a token sent with a long-term key → UnrecognizedClientException", async () => {
    await expectError(
      await signed({ sessionToken: "made-up" }),
      "UnrecognizedClientException",
      "The security token included in the request is invalid",
    );
  });
});

describe("X-Amz-Date parsing", () => {
  it("round-trips the basic format and refuses impossible dates", () => {
    expect(parseAmzDate("20240301T120000Z")?.toISOString()).toBe("2024-03-01T12:00:00.000Z");
    expect(parseAmzDate("20240230T120000Z")).toBeUndefined();
    expect(parseAmzDate("20240301T250000Z")).toBeUndefined();
    expect(parseAmzDate("20240301120000Z")).toBeUndefined();
    expect(formatAmzDate(new Date("2024-03-01T12:00:00.999Z"))).toBe("20240301T120000Z");
  });
});

describe("SigV4: development mode's account keys (any secret)", () => {
  const accountKeys = new DevelopmentCredentialStore(credentialStore);
  const dev = (req: Parameters<ReturnType<typeof wireWith>["handle"]>[0]) => {
    const service = stubService();
    return wireWith(service, { credentials: accountKeys })
      .handle(req)
      .then((res) => ({ res, calls: service.calls }));
  };

  it("a 12-digit access key id with any secret is the root of that account", async () => {
    const { res, calls } = await dev(
      await signed({ accessKeyId: "444455556666", secretAccessKey: "anything" }),
    );
    expect(res.status).toBe(200);
    expect(calls[0]!.ctx.accountId).toBe("444455556666");
    expect(calls[0]!.ctx.principal.identity).toMatchObject({
      type: "Root",
      arn: "arn:aws:iam::444455556666:root",
      accountId: "444455556666",
    });
  });

  it("still refuses a body that is not the one whose hash was signed, and keys of other forms", async () => {
    const req = await signed({
      accessKeyId: "444455556666",
      secretAccessKey: "x",
      body: '{"NextToken":"a"}',
    });
    req.body = Buffer.from('{"NextToken":"b"}');
    expect(json((await dev(req)).res).__type).toBe("InvalidSignatureException");
    const short = await dev(await signed({ accessKeyId: "44445555666", secretAccessKey: "x" }));
    expect(json(short.res).__type).toBe("UnrecognizedClientException");
  });

  it("a configured key is still checked against its secret", async () => {
    const wrong = await dev(await signed({ accessKeyId: "AKIDTEST", secretAccessKey: "not-the-secret" }));
    expect(json(wrong.res)).toEqual({ __type: "InvalidSignatureException", message: MISMATCH });
  });
});
