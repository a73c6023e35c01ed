/**
 * Clinical records as FHIR R4 resources (types from @medplum/fhirtypes): which consent
 * category each falls in, the clinic's own rules for what its forms write (required
 * fields, code systems, units, plausible values, with the JSON path of every issue), and
 * one-line summaries for the chart. Structural R4 validation of imported data is
 * r4-validate.ts; these rules only warn about imported data.
 *
 * The parts: fhir-resource.ts (types, code systems, categories, a resource's patient and
 * bytes), fhir-rules.ts (the clinic's rules), fhir-summary.ts (what the chart shows).
 *
 * A resource's patient is the patient's ledger key: `Patient.id` is the key in hex and
 * every other resource points at it (`subject` / `patient` / `beneficiary` = `Patient/<key>`).
 */
export * from './fhir-resource.js';
export { validateResource } from './fhir-rules.js';
export { clinicalDate, displayName, mainCode, narrativeText, summarize } from './fhir-summary.js';
