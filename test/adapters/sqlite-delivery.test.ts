import { sqliteOpener } from "../support/sqlite.ts";
import { deliveryStoreContract } from "./delivery-store.contract.ts";

const open = sqliteOpener();

deliveryStoreContract("SqliteDeliveryStore (:memory:)", async () => {
  const { events, deliveries } = open(":memory:");
  return { events, deliveries };
});
