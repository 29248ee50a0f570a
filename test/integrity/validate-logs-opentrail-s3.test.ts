import { validationCases } from "./validate-cases.ts";

validationCases("moto");
