import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";

/** A new SQS queue: its URL and ARN (a subscription's or a rule target's endpoint). */
export async function createQueue(sqs: SQSClient, name: string): Promise<{ url: string; arn: string }> {
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  return { url: queue.QueueUrl!, arn: attrs.Attributes!.QueueArn! };
}

/** Every message waiting in the queue, bodies parsed as JSON, deleted once read. */
export async function takeMessages<T>(sqs: SQSClient, url: string): Promise<T[]> {
  const out: T[] = [];
  for (;;) {
    const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    if (!res.Messages?.length) return out;
    for (const m of res.Messages) {
      out.push(JSON.parse(m.Body ?? "{}") as T);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}
