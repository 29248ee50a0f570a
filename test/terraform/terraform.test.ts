import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { type S3TestServer, s3Settings, startMoto } from "../support/s3-servers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/*
 * Terraform with the hashicorp/aws provider against opentrail in front of moto: a trail with its
 * bucket policy, SNS topic policy, CloudWatch Logs group and role (CloudTrail's trust and the role
 * policy of the User Guide, read from moto's IAM by the check) applies, plans with no changes
 * and destroys; without the bucket policy the apply fails with AWS's exception. Every service the
 * provider calls goes to opentrail, which answers CloudTrail and forwards the rest to moto.
 *
 * Needs terraform on PATH and the provider in a filesystem mirror (no network is used): the
 * mirror is OPENTRAIL_TERRAFORM_PLUGINS, else one of the directories Terraform itself searches,
 * else one found under /opt, /usr/local or /usr/share. Without them the suite is skipped, on CI
 * too (CI machines need not have terraform).
 */

const run = promisify(execFile);
const ACCOUNT = "123456789012";
const PROVIDER = join("registry.terraform.io", "hashicorp", "aws");

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const candidate = join(dir, command);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** A directory laid out as a filesystem mirror that holds hashicorp/aws for this platform. */
function holdsProvider(mirror: string): boolean {
  const versions = join(mirror, PROVIDER);
  if (!existsSync(versions)) return false;
  const platform = `${process.platform}_${process.arch === "x64" ? "amd64" : process.arch}`;
  return readdirSync(versions).some((v) => existsSync(join(versions, v, platform)));
}

/** Looks two levels down a root for a mirror (`<root>/<dir>/registry.terraform.io/...`). */
function searchMirror(root: string, depth = 2): string | undefined {
  if (holdsProvider(root)) return root;
  if (depth === 0) return undefined;
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    const dir = join(root, entry);
    try {
      if (!statSync(dir).isDirectory()) continue;
    } catch {
      continue;
    }
    const found = searchMirror(dir, depth - 1);
    if (found) return found;
  }
  return undefined;
}

function findMirror(): string | undefined {
  const given = process.env.OPENTRAIL_TERRAFORM_PLUGINS;
  if (given) return holdsProvider(given) ? given : undefined;
  const implicit = [
    join(homedir(), ".terraform.d", "plugins"),
    join(homedir(), ".local", "share", "terraform", "plugins"),
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
  ];
  for (const dir of implicit) if (holdsProvider(dir)) return dir;
  for (const root of ["/opt", "/usr/local", "/usr/share"]) {
    const found = searchMirror(root);
    if (found) return found;
  }
  return undefined;
}

const TERRAFORM = onPath("terraform");
const MIRROR = TERRAFORM ? findMirror() : undefined;
const MISSING = !TERRAFORM
  ? "terraform is not on PATH"
  : !MIRROR
    ? "no filesystem mirror holds the hashicorp/aws provider (set OPENTRAIL_TERRAFORM_PLUGINS)"
    : undefined;
if (MISSING) console.warn(`skipping the Terraform suite: ${MISSING}`);

/**
 * The configuration: every service of the provider on opentrail's URL. With `broken = true` a
 * second trail writes to a bucket that has no policy.
 */
function configuration(endpoint: string, name: string): string {
  const services = ["cloudtrail", "s3", "sns", "cloudwatchlogs", "iam", "sts"];
  const endpoints = services.map((s) => `    ${s} = "${endpoint}"`).join("\n");
  return `
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "broken" {
  type    = bool
  default = false
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  endpoints {
${endpoints}
  }
}

resource "aws_s3_bucket" "trail" {
  bucket        = "${name}-logs"
  force_destroy = true
}

resource "aws_s3_bucket_policy" "trail" {
  bucket = aws_s3_bucket.trail.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AWSCloudTrailAclCheck"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "s3:GetBucketAcl"
        Resource  = aws_s3_bucket.trail.arn
      },
      {
        Sid       = "AWSCloudTrailWrite"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "\${aws_s3_bucket.trail.arn}/AWSLogs/${ACCOUNT}/*"
        Condition = { StringEquals = { "s3:x-amz-acl" = "bucket-owner-full-control" } }
      },
    ]
  })
}

resource "aws_sns_topic" "trail" {
  name = "${name}-topic"
}

resource "aws_sns_topic_policy" "trail" {
  arn = aws_sns_topic.trail.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AWSCloudTrailSNSPolicy"
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "SNS:Publish"
      Resource  = aws_sns_topic.trail.arn
    }]
  })
}

resource "aws_cloudwatch_log_group" "trail" {
  name = "${name}-group"
}

resource "aws_iam_role" "trail" {
  name = "${name}-role"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "trail" {
  name = "${name}-logs"
  role = aws_iam_role.trail.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "AWSCloudTrailCreateLogStream2014110"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream"]
        Resource = ["\${aws_cloudwatch_log_group.trail.arn}:log-stream:${ACCOUNT}_CloudTrail_us-east-1*"]
      },
      {
        Sid      = "AWSCloudTrailPutLogEvents20141101"
        Effect   = "Allow"
        Action   = ["logs:PutLogEvents"]
        Resource = ["\${aws_cloudwatch_log_group.trail.arn}:log-stream:${ACCOUNT}_CloudTrail_us-east-1*"]
      },
    ]
  })
}

resource "aws_cloudtrail" "trail" {
  name           = "${name}"
  s3_bucket_name = aws_s3_bucket.trail.id
  # read back from SnsTopicARN as a name when its account is the caller's (STS GetCallerIdentity)
  sns_topic_name             = aws_sns_topic.trail.name
  cloud_watch_logs_group_arn = "\${aws_cloudwatch_log_group.trail.arn}:*"
  cloud_watch_logs_role_arn  = aws_iam_role.trail.arn
  enable_log_file_validation = true
  depends_on                 = [aws_s3_bucket_policy.trail, aws_sns_topic_policy.trail, aws_iam_role_policy.trail]
}

resource "aws_s3_bucket" "bare" {
  count         = var.broken ? 1 : 0
  bucket        = "${name}-bare"
  force_destroy = true
}

resource "aws_cloudtrail" "bare" {
  count          = var.broken ? 1 : 0
  name           = "${name}-bare"
  s3_bucket_name = aws_s3_bucket.bare[0].id
}
`;
}

let moto: S3TestServer;
let server: TestServer;
let home: string;

/** Runs terraform in `dir`, offline, with the mirror as the only provider source. */
async function terraform(dir: string, ...args: string[]): Promise<{ code: number; out: string }> {
  const env = {
    ...process.env,
    TF_CLI_CONFIG_FILE: join(home, "terraformrc"),
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    CHECKPOINT_DISABLE: "1",
    TF_DATA_DIR: join(dir, ".terraform"),
  };
  try {
    const { stdout, stderr } = await run(TERRAFORM!, [`-chdir=${dir}`, ...args, "-no-color"], {
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

describe.skipIf(MISSING !== undefined)("Terraform (hashicorp/aws) against opentrail and moto", () => {
  let dir: string;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), "opentrail-terraform-"));
    writeFileSync(
      join(home, "terraformrc"),
      `provider_installation {\n  filesystem_mirror {\n    path    = "${MIRROR}"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n`,
    );
    moto = await startMoto();
    server = await startTestServer({
      deliveryIntervalMs: 3_600_000,
      policyChecks: "aws",
      s3: s3Settings(moto),
      upstreams: { default: moto.endpoint, services: {} },
    });
    dir = mkdtempSync(join(home, "workspace-"));
    writeFileSync(join(dir, "main.tf"), configuration(server.url, "tf-trail"));
    const init = await terraform(dir, "init", "-input=false");
    expect(init.code, init.out).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await moto?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  const api = () => httpClient({ endpoint: server.url });

  it("applies, then plans no changes", async () => {
    const apply = await terraform(dir, "apply", "-auto-approve", "-input=false");
    expect(apply.code, apply.out).toBe(0);
    const { Trail } = await api().getTrail({ Name: "tf-trail" });
    expect(Trail).toMatchObject({
      S3BucketName: "tf-trail-logs",
      SnsTopicName: "tf-trail-topic",
      SnsTopicARN: `arn:aws:sns:us-east-1:${ACCOUNT}:tf-trail-topic`,
      CloudWatchLogsLogGroupArn: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:tf-trail-group:*`,
      CloudWatchLogsRoleArn: `arn:aws:iam::${ACCOUNT}:role/tf-trail-role`,
      LogFileValidationEnabled: true,
    });
    expect((await api().getTrailStatus({ Name: "tf-trail" })).IsLogging).toBe(true);

    const plan = await terraform(dir, "plan", "-detailed-exitcode", "-input=false");
    expect(plan.code, plan.out).toBe(0);
    expect(plan.out).toContain("No changes.");
  }, 180_000);

  it("fails as AWS does for a trail whose bucket has no policy", async () => {
    const apply = await terraform(dir, "apply", "-auto-approve", "-input=false", "-var", "broken=true");
    expect(apply.code).not.toBe(0);
    expect(apply.out).toContain("InsufficientS3BucketPolicyException");
    expect(apply.out).toContain("Incorrect S3 bucket policy is detected for bucket: tf-trail-bare");
    const { trailList } = await api().describeTrails({});
    expect(trailList?.map((t) => t.Name)).toEqual(["tf-trail"]);
  }, 120_000);

  it("destroys everything", async () => {
    const destroy = await terraform(dir, "destroy", "-auto-approve", "-input=false", "-var", "broken=true");
    expect(destroy.code, destroy.out).toBe(0);
    expect((await api().describeTrails({})).trailList).toEqual([]);
  }, 120_000);
});
