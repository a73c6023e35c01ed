/**
 * FHIR R4 Bundles in: `planImport` → preview → `runImport`.
 *
 * A `collection`, `transaction` or `batch` Bundle as other systems export it (Synthea,
 * EHR exports, the HL7 examples). The text is checked for size and depth before it is
 * parsed, keys that are JavaScript prototype machinery are refused, and every resource is
 * validated as R4 (r4-validate.ts) with the JSON path of each error; with any error
 * nothing is imported. The clinic's own rules (code systems, units, ranges) are warnings.
 *
 * Every resource is kept: a Patient gets a new patient key (or is recognized as one this
 * node holds, by a source or an identifier), a clinical or financial resource becomes a
 * sealed record of its patient under its consent category, Organization / Practitioner /
 * PractitionerRole / Location become directory entries, Provenance is left out (the
 * ledger records its own). Every reference inside the Bundle (`urn:uuid:`, relative,
 * absolute, `_history`) is rewritten to the new `Type/id`; a reference to something
 * neither in the Bundle nor on the ledger is kept as a logical reference (identifier)
 * with a warning. Where each resource came from is kept as an identifier
 * (`urn:clinic-ledger:source`), with `meta.source`, `meta.security`, `meta.tag` and
 * `meta.profile`: a second import of the same data writes only what changed.
 *
 * Transactions: POST and PUT are honoured (all or nothing, like the whole import); DELETE,
 * PATCH, GET, conditional requests and conditional references are refused with a reason.
 *
 * The parts: bundle-plan.ts (parsing, the three passes, the plan), bundle-entries.ts (pass 1:
 * per-entry checks and ids), bundle-references.ts (pass 2: references and patients),
 * bundle-write.ts (writing a plan). This module is the entry the UI, the headless peer's
 * FHIR API and the tests import.
 */
export { MAX_RESOURCE_BYTES } from './bundle-entries.js';
export {
	MAX_BUNDLE_CHARS,
	planImport,
	type EntryOutcome,
	type ImportPlan,
	type PlannedPatient,
	type PlannedRecord
} from './bundle-plan.js';
export { runImport } from './bundle-write.js';
