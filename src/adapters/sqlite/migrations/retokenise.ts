import type { Database } from "better-sqlite3";
import { eventTokens, hashes, idKey } from "../event-keys.ts";

interface Row {
  id: bigint;
  scope: bigint;
  account_id: string;
  event_id: string;
  event_name: string | null;
  event_source: string | null;
  read_only: bigint | null;
  username: string | null;
  access_key_id: string | null;
  resources: string | null;
}

/**
 * Writes the tokens of every event again, when a migration left the `event_keys_stale` row that
 * says the stored ones were made by an older build. One transaction: a crash leaves the row, and
 * the next open starts over.
 */
export function retokeniseIfStale(db: Database): void {
  if (db.prepare("SELECT 1 FROM event_keys_stale").get() === undefined) return;
  const chunk = db
    .prepare<[bigint], Row>(
      `SELECT e.id, e.scope, s.account_id, e.event_id, e.event_name, e.event_source, e.read_only,
         e.username, e.access_key_id, e.resources
       FROM events AS e JOIN event_scopes AS s ON s.id = e.scope
       WHERE e.id > ? ORDER BY e.id LIMIT 1000`,
    )
    .safeIntegers(true);
  const insert = db.prepare<[bigint, string]>("INSERT INTO event_keys (rowid, tokens) VALUES (?, ?)");
  db.transaction(() => {
    db.exec("INSERT INTO event_keys (event_keys) VALUES ('delete-all')");
    for (let after = -(2n ** 63n); ; ) {
      const rows = chunk.all(after);
      for (const r of rows) {
        const source = {
          eventName: r.event_name ?? undefined,
          eventSource: r.event_source ?? undefined,
          readOnly: r.read_only === null ? undefined : r.read_only === 1n,
          username: r.username ?? undefined,
          accessKeyId: r.access_key_id ?? undefined,
          resources: r.resources === null ? [] : JSON.parse(r.resources),
        };
        insert.run(r.id, eventTokens(Number(r.scope), source, hashes(idKey(r.account_id, r.event_id))));
      }
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.id;
    }
    db.exec("DELETE FROM event_keys_stale");
  }).immediate();
}
