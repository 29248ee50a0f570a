/**
 * CreateTrail and UpdateTrail check names and the per-region quota against all of an account's
 * trails, then write: two such calls interleaving at an await would both pass the check. Within
 * one process they take turns per account, per repository. (Several processes sharing one
 * database need the database to enforce the same.)
 */
const queues = new WeakMap<object, Map<string, Promise<void>>>();

export async function oneAtATime<T>(scope: object, accountId: string, work: () => Promise<T>): Promise<T> {
  let byAccount = queues.get(scope);
  if (!byAccount) {
    byAccount = new Map();
    queues.set(scope, byAccount);
  }
  const previous = byAccount.get(accountId) ?? Promise.resolve();
  let release = () => {};
  const turn = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => turn);
  byAccount.set(accountId, tail);
  await previous;
  try {
    return await work();
  } finally {
    release();
    if (byAccount.get(accountId) === tail) byAccount.delete(accountId);
  }
}
