import type { Simulation } from "@cloud-copilot/iam-simulate";
import { CLOUDTRAIL_PRINCIPAL, type PolicyQuestion } from "../../domain/policy.ts";
import type { IdentityPolicies, PolicyEvaluator } from "../../ports/aws.ts";

/**
 * Policies evaluated by @cloud-copilot/iam-simulate (a maintained IAM evaluator: wildcards,
 * NotAction/NotResource, every condition operator, explicit deny): resource policies for
 * CloudTrail's principal, identity policies for a role CloudTrail acts as.
 * A policy the evaluator cannot read fails the first question: AWS would not accept it either.
 */
/*
 * iam-simulate recognises variable condition keys by a slash (aws:PrincipalTag/NAME) and drops
 * `kms:EncryptionContext:NAME` from the request as unknown, so a key policy conditioned on the
 * encryption context (as AWS's CloudTrail key policy is) could never match. Both the policy and
 * the request carry such keys under a global slash form instead, which it evaluates with the
 * same operators.
 */
const ENCRYPTION_CONTEXT = /"kms:EncryptionContext:([^"]+)"/gi;
const contextStandIn = (name: string) => `aws:PrincipalTag/kms-encryption-context.${name}`;

function withStandIns(context: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(context)) {
    const m = /^kms:EncryptionContext:(.+)$/i.exec(key);
    out[m ? contextStandIn(m[1]!) : key] = value;
  }
  return out;
}

/** The evaluator, loaded on the first question (about 90 ms of start-up otherwise). */
async function simulate(simulation: Simulation) {
  const { runSimulation } = await import("@cloud-copilot/iam-simulate");
  return runSimulation(simulation, {});
}

export function createPolicyEvaluator(): PolicyEvaluator {
  return {
    async refused(policy, questions) {
      let document: unknown;
      try {
        document = JSON.parse(
          policy.replace(ENCRYPTION_CONTEXT, (_m, name: string) => `"${contextStandIn(name)}"`),
        );
      } catch {
        return questions[0];
      }
      return firstRefused(questions, (q) => allows(document, q));
    },
    async refusedTo(principal, identity, questions) {
      const documents = parsedIdentity(identity);
      if (!documents) return questions[0];
      return firstRefused(questions, (q) => identityAllows(principal, documents, q));
    },
  };
}

/** The first question whose answer is not the one it expects. */
async function firstRefused(
  questions: readonly PolicyQuestion[],
  allowed: (q: PolicyQuestion) => Promise<boolean>,
): Promise<PolicyQuestion | undefined> {
  for (const q of questions) {
    if ((await allowed(q)) !== (q.expect === "allow")) return q;
  }
  return undefined;
}

interface ParsedIdentity {
  policies: { name: string; policy: unknown }[];
  boundary?: unknown;
}

function parsedIdentity(identity: IdentityPolicies): ParsedIdentity | undefined {
  try {
    return {
      policies: identity.policies.map((p) => ({ name: p.name, policy: JSON.parse(p.document) as unknown })),
      ...(identity.boundary !== undefined ? { boundary: JSON.parse(identity.boundary) as unknown } : {}),
    };
  } catch {
    return undefined;
  }
}

async function identityAllows(
  principal: string,
  identity: ParsedIdentity,
  q: PolicyQuestion,
): Promise<boolean> {
  const simulation: Simulation = {
    request: {
      principal,
      action: q.action,
      resource: { resource: q.resource, accountId: q.resourceAccount },
      contextVariables: withStandIns(q.context),
    },
    identityPolicies: identity.policies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(identity.boundary !== undefined
      ? { permissionBoundaryPolicies: [{ name: "boundary", policy: identity.boundary }] }
      : {}),
  };
  const result = await simulate(simulation);
  return result.resultType !== "error" && result.overallResult === "Allowed";
}

async function allows(document: unknown, q: PolicyQuestion): Promise<boolean> {
  const simulation: Simulation = {
    request: {
      principal: CLOUDTRAIL_PRINCIPAL,
      action: q.action,
      resource: { resource: q.resource, accountId: q.resourceAccount },
      contextVariables: withStandIns(q.context),
    },
    identityPolicies: [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: document as Simulation["resourcePolicy"],
  };
  const result = await simulate(simulation);
  return result.resultType !== "error" && result.overallResult === "Allowed";
}
