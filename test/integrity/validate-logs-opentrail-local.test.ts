import { validationCases } from "./validate-cases.ts";

validationCases("local");
