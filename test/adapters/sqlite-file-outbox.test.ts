import { sqliteOpener } from "../support/sqlite.ts";
import { fileOutboxContract } from "./file-outbox.contract.ts";

const open = sqliteOpener();

fileOutboxContract("SqliteFileOutbox (:memory:)", async () => {
  const { events, deliveries, outputs, trails } = open(":memory:");
  return { events, deliveries, outputs, trails };
});
