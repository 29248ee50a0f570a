import { InProcessLeases } from "../../src/adapters/sqlite/leases.ts";
import { leasesContract } from "./leases.contract.ts";

leasesContract("InProcessLeases", async () => new InProcessLeases());
