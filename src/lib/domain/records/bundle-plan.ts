/**
 * Planning a Bundle import (bundle.ts says what an import does): the text parsed and
 * checked, pass 1 (bundle-entries.ts: what each entry is), pass 2 (bundle-references.ts:
 * references rewritten, patients found), then pass 3 here: consent categories, the
 * clinic's rules as warnings, what each entry becomes, and the plan. Nothing is written.
 */
import type { Category } from '../privacy/envelope.js';
import { entryTargets, type Json, type Target } from './bundle-entries.js';
import { resolveReferences } from './bundle-references.js';
import { categoryOf, RESOURCE_TYPES, validateResource, type ClinicalResource, type FhirIssue } from './fhir.js';
import { isObject, mapReferences, parseJson, referencesIn, shapeIssues } from './json-input.js';
import { digestOfResource, EMPTY_KNOWN, type KnownRecords } from './known.js';
import { envelopeIssues } from './r4-validate.js';
import { newRecordId } from './record-id.js';
import { restrictedWithoutTopic, sensitivityOf } from './sensitivity.js';

/** Largest Bundle text taken (a 1,000-patient export is about 30 MB). */
export const MAX_BUNDLE_CHARS = 200 * 1024 * 1024;
const BUNDLE_TYPES = ['collection', 'transaction', 'batch'];

export interface PlannedRecord {
	/** Record id on the ledger (32 hex). */
	readonly rid: string;
	readonly resource: ClinicalResource;
	readonly category: Category;
	/** The salt a new record's id commits to (record-id.ts); absent for an amendment (its record's salt is read when written). */
	readonly salt?: string;
	/** Block of the version this one amends (a changed re-import). */
	readonly prev?: string;
}

export interface PlannedPatient {
	/** Where the Patient came from (its fullUrl or `Patient/id`). */
	readonly sourceId: string;
	/** Its ledger key (hex). */
	readonly patient: string;
	/** The new key's seed; null for a patient already on the ledger. */
	readonly seed: Uint8Array | null;
	/** In write order: the Patient first. */
	readonly records: PlannedRecord[];
}

export interface ImportPlan {
	readonly patients: PlannedPatient[];
	/** Directory resources to write (new or changed). */
	readonly directory: Json[];
	/** R4 violations and refused requests: with any, nothing is imported. */
	readonly issues: FhirIssue[];
	/** The clinic's rules and everything kept differently than it came (shown, not blocking). */
	readonly warnings: FhirIssue[];
	/** Resources by type, as they will be written. */
	readonly counts: Record<string, number>;
	/** Entries left out on purpose (Provenance: recreated from this ledger's own blocks). */
	readonly skipped: number;
	/** Entries already on the ledger exactly as they are: not written again. */
	readonly unchanged: number;
	readonly total: number;
	/** What each entry becomes, by entry index (null: left out): the answer to a transaction. */
	readonly outcomes: (EntryOutcome | null)[];
}

export interface EntryOutcome {
	/** `Type/id` on the ledger. */
	readonly ref: string;
	readonly outcome: 'create' | 'update' | 'unchanged';
}

/** Consent categories by entry index: sensitive codes reach the records that refer to them. */
function categoriesOf(targets: readonly (Target | null)[], rewritten: Map<number, Json>): Map<number, Category> {
	const categories = new Map<number, Category>();
	for (const target of targets)
		if (target?.kind === 'record' || target?.kind === 'patient')
			categories.set(target.index, categoryOf(rewritten.get(target.index) as unknown as ClinicalResource));
	const sensitiveRefs = new Map<string, Category>();
	for (const target of targets)
		if (target?.kind === 'record' && sensitivityOf(rewritten.get(target.index)))
			sensitiveRefs.set(target.ref, categories.get(target.index)!);
	for (const target of targets) {
		if (target?.kind !== 'record' || sensitiveRefs.has(target.ref)) continue;
		const inherited = referencesIn(rewritten.get(target.index))
			.map((r) => sensitiveRefs.get(r))
			.find(Boolean);
		if (inherited) categories.set(target.index, inherited);
	}
	return categories;
}

/**
 * Gives each new record of the plan an id that commits to its patient and category
 * (record-id.ts), as every record written here has: no other put can claim it for another
 * patient or category, and a chart takes it as its own without reading other claims. The
 * ids pass 1 chose (before patients and categories were known) are replaced in the
 * targets and in every reference of `rewritten`. Returns each new record's id and salt by entry.
 */
function commitRecordIds(
	targets: (Target | null)[],
	rewritten: Map<number, Json>,
	categories: Map<number, Category>
): Map<number, { rid: string; salt: string }> {
	const ids = new Map<number, { rid: string; salt: string }>();
	const renamed = new Map<string, string>();
	targets.forEach((found, i) => {
		let target = found;
		if (!target?.patient || (target.kind !== 'record' && target.kind !== 'patient')) return;
		const patient = target.patient;
		// A record matched by its source to one of another patient or category (a shared Medication, a changed
		// sensitivity) is a new record: an amendment cannot move a record (its id commits to both).
		const { known } = target;
		if (target.kind === 'record' && known && (known.patient !== patient || known.category !== categories.get(target.index))) {
			const { known: _moved, ...rest } = target;
			targets[i] = target = rest;
		}
		// A record already on the ledger keeps its id (a changed one is amended); so does a known patient's Patient record.
		if (target.kind === 'patient' ? target.known?.rid : target.known) return;
		const id = newRecordId(patient, categories.get(target.index)!);
		ids.set(target.index, id);
		// A Patient keeps its key as id and reference; its demographics record gets the committed id.
		if (target.kind === 'patient') return;
		renamed.set(target.ref, `${target.type}/${id.rid}`);
		targets[i] = { ...target, id: id.rid, ref: `${target.type}/${id.rid}` };
	});
	if (renamed.size === 0) return ids;
	for (const [index, resource] of rewritten) {
		const mapped = mapReferences(resource, (ref) => {
			const to = renamed.get(ref.reference);
			return to ? { ...ref, reference: to } : ref;
		}) as Json;
		const record = targets[index]!.kind === 'record' ? ids.get(index) : undefined;
		rewritten.set(index, record ? { ...mapped, id: record.rid } : mapped);
	}
	return ids;
}

/**
 * Reads and checks a Bundle; nothing is written. New patient keys are made here (cheap)
 * so the preview shows the final resources. `known`: what this node holds (known.ts), so
 * a re-import is recognized and references to the ledger are accepted.
 */
export function planImport(input: string | unknown, options: { known?: KnownRecords } = {}): ImportPlan {
	const known = options.known ?? EMPTY_KNOWN;
	const warnings: FhirIssue[] = [];
	const refused = (issues: FhirIssue[]): ImportPlan => ({
		patients: [],
		directory: [],
		issues,
		warnings: [],
		counts: {},
		skipped: 0,
		unchanged: 0,
		total: 0,
		outcomes: []
	});
	let bundle: unknown = input;
	if (typeof input === 'string') {
		const parsed = parseJson(input, MAX_BUNDLE_CHARS);
		if (parsed.issues.length) return refused(parsed.issues);
		bundle = parsed.value;
	} else {
		const shape = shapeIssues(input);
		if (shape.length) return refused(shape);
	}
	if (!isObject(bundle) || bundle.resourceType !== 'Bundle')
		return refused([{ path: '$.resourceType', message: 'must be a FHIR Bundle (resourceType "Bundle")' }]);
	if (!BUNDLE_TYPES.includes(bundle.type as string))
		return refused([{ path: '$.type', message: 'must be collection, transaction or batch' }]);
	const entries = bundle.entry;
	if (!Array.isArray(entries) || entries.length === 0) return refused([{ path: '$.entry', message: 'has no entries' }]);
	const issues: FhirIssue[] = envelopeIssues(bundle);

	const entryPass = entryTargets(entries, bundle.type as string, known, issues);
	const { targets, skipped } = entryPass;
	const rewritten = resolveReferences(entries, entryPass, known, issues, warnings);

	// Pass 3: categories, clinic warnings, the plan.
	const categories = categoriesOf(targets, rewritten);
	const ids = commitRecordIds(targets, rewritten, categories);
	const patients = new Map<string, PlannedPatient>();
	const directory: Json[] = [];
	const counts: Record<string, number> = {};
	let unchanged = 0;
	const outcomes: (EntryOutcome | null)[] = targets.map(() => null);
	for (const target of targets) {
		if (!target) continue;
		const resource = rewritten.get(target.index)!;
		const root = `$.entry[${target.index}].resource`;
		if ((RESOURCE_TYPES as readonly string[]).includes(target.type))
			warnings.push(...validateResource(resource, root, target.patient ?? null));
		if (restrictedWithoutTopic(resource))
			warnings.push({
				path: `${root}.meta.security`,
				message: `is restricted without naming a topic: stored under ${categories.get(target.index)}; grant that category with care`
			});
		if (target.known && target.known.digest === digestOfResource(resource as unknown as ClinicalResource)) {
			unchanged++;
			outcomes[target.index] = { ref: target.ref, outcome: 'unchanged' };
			continue;
		}
		outcomes[target.index] = { ref: target.ref, outcome: target.known ? 'update' : 'create' };
		counts[target.type] = (counts[target.type] ?? 0) + 1;
		if (target.kind === 'directory') {
			directory.push(resource);
			continue;
		}
		if (!target.patient) continue;
		let planned = patients.get(target.patient);
		if (!planned) {
			const own = targets.find((t) => t?.kind === 'patient' && t.id === target.patient);
			planned = { sourceId: own?.source ?? `Patient/${target.patient}`, patient: target.patient, seed: own?.seed ?? null, records: [] };
			patients.set(target.patient, planned);
		}
		planned.records.push({
			rid: ids.get(target.index)?.rid ?? (target.kind === 'patient' ? target.known!.rid! : target.id),
			...(ids.has(target.index) ? { salt: ids.get(target.index)!.salt } : {}),
			resource: resource as unknown as ClinicalResource,
			category: categories.get(target.index)!,
			...(target.known?.block ? { prev: target.known.block } : {})
		});
	}
	for (const p of patients.values())
		p.records.sort((a, b) => Number(b.resource.resourceType === 'Patient') - Number(a.resource.resourceType === 'Patient'));
	return { patients: [...patients.values()], directory, issues, warnings, counts, skipped, unchanged, total: entries.length, outcomes };
}
