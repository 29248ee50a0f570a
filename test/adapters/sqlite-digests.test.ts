import { SqliteDigestStore } from "../../src/adapters/sqlite/digest-store.ts";
import { sqliteOpener } from "../support/sqlite.ts";
import { digestChainStoreContract } from "./digest-chain-store.contract.ts";

const open = sqliteOpener();

digestChainStoreContract(
  "SqliteDigestStore (:memory:)",
  async () => new SqliteDigestStore(open(":memory:").db),
);
