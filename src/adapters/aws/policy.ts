import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import { CLOUDTRAIL_PRINCIPAL, type PolicyQuestion } from "../../domain/policy.ts";
import type { PolicyEvaluator } from "../../ports/aws.ts";

/**
 * Resource policies evaluated by @cloud-copilot/iam-simulate (a maintained IAM evaluator: wildcards,
 * NotAction/NotResource, every condition operator, explicit deny), for CloudTrail's principal.
 * A policy the evaluator cannot read fails the first question: AWS would not accept it either.
 */
export function createPolicyEvaluator(): PolicyEvaluator {
  return {
    async refused(policy, questions) {
      let document: unknown;
      try {
        document = JSON.parse(policy);
      } catch {
        return questions[0];
      }
      for (const q of questions) {
        if ((await allows(document, q)) !== (q.expect === "allow")) return q;
      }
      return undefined;
    },
  };
}

async function allows(document: unknown, q: PolicyQuestion): Promise<boolean> {
  const simulation: Simulation = {
    request: {
      principal: CLOUDTRAIL_PRINCIPAL,
      action: q.action,
      resource: { resource: q.resource, accountId: q.resourceAccount },
      contextVariables: q.context,
    },
    identityPolicies: [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: document as Simulation["resourcePolicy"],
  };
  const result = await runSimulation(simulation, {});
  return result.resultType !== "error" && result.overallResult === "Allowed";
}
