/**
 * Pass 2 of a Bundle import (bundle-plan.ts): every reference inside the Bundle
 * (`urn:uuid:`, relative, absolute, `_history`) rewritten to the `Type/id` its target gets
 * on the ledger, a reference to something neither in the Bundle nor on the ledger kept as a
 * logical reference (identifier) with a warning, the source kept as an identifier, and the
 * patient of every record found (a record naming no patient belongs to the patient of a
 * record referring to it).
 */
import type { FhirIssue } from './fhir.js';
import { relativeOf, type EntryTargets, type Json } from './bundle-entries.js';
import { isObject, mapReferences, referencesIn } from './json-input.js';
import { SOURCE_SYSTEM, type KnownRecords } from './known.js';
import { PATIENT_ELEMENTS } from './resource-types.js';

/** Keeps `meta.source/security/tag/profile` and drops what this ledger sets itself (version, time). */
function keptMeta(meta: unknown): Json | undefined {
	if (!isObject(meta)) return undefined;
	const kept = Object.fromEntries(Object.entries(meta).filter(([k]) => ['source', 'security', 'tag', 'profile'].includes(k)));
	return Object.keys(kept).length ? kept : undefined;
}

function withSource(resource: Json, source: string): Json {
	const ids = Array.isArray(resource.identifier) ? (resource.identifier as Json[]) : [];
	if (ids.some((i) => i.system === SOURCE_SYSTEM)) return resource;
	return { ...resource, identifier: [...ids, { system: SOURCE_SYSTEM, value: source }] };
}

/**
 * Pass 2: each target's resource as it will be written, by entry index; sets each record
 * target's `patient`. Unsupported or dangling references go to `issues`, logical ones to
 * `warnings`.
 */
export function resolveReferences(
	entries: unknown[],
	{ targets, byRef }: EntryTargets,
	known: KnownRecords,
	issues: FhirIssue[],
	warnings: FhirIssue[]
): Map<number, Json> {
	const rewritten = new Map<number, Json>();
	for (const target of targets) {
		if (!target) continue;
		const root = `$.entry[${target.index}].resource`;
		const original = (entries[target.index] as Json).resource as Json;
		const resource = mapReferences(original, (ref) => {
			const reference = ref.reference;
			if (reference.startsWith('#')) return ref;
			if (reference.includes('?')) {
				issues.push({ path: root, message: `the conditional reference "${reference}" is not supported: refer to the entry's fullUrl` });
				return ref;
			}
			const found = byRef.get(reference) ?? byRef.get(relativeOf(reference) ?? '');
			if (found) return { ...ref, reference: found.ref };
			if (known.refs.has(reference)) return ref;
			const type = relativeOf(reference)?.split('/')[0];
			warnings.push({
				path: root,
				message: `refers to ${reference}, which is neither in this Bundle nor on this ledger: kept as a logical reference`
			});
			const { reference: _dropped, ...rest } = ref;
			return { ...rest, ...(type && rest.type === undefined ? { type } : {}), identifier: { system: SOURCE_SYSTEM, value: reference } };
		}) as Json;
		const meta = keptMeta(resource.meta);
		const cleaned: Json = Object.fromEntries(Object.entries(resource).filter(([k]) => k !== 'meta' && k !== 'id'));
		const final = withSource(
			{
				resourceType: original.resourceType,
				id: target.id,
				...(meta ? { meta } : {}),
				...Object.fromEntries(Object.entries(cleaned).filter(([k]) => k !== 'resourceType'))
			},
			target.source
		);
		rewritten.set(target.index, final);
		// The patient a record names is its patient, even when its source matched a record of another patient here.
		if (target.kind === 'record') {
			for (const element of PATIENT_ELEMENTS) {
				const ref = isObject(final[element]) ? (final[element] as Json).reference : undefined;
				const m = typeof ref === 'string' ? /^Patient\/([0-9a-f]{64})$/.exec(ref) : null;
				if (m) {
					target.patient = m[1]!;
					break;
				}
			}
		}
	}
	// A record naming no patient (a Medication) belongs to the patient of a record referring to it.
	for (const target of targets) {
		if (!target || target.kind !== 'record' || target.patient) continue;
		const owner = targets.find((t) => t?.kind === 'record' && t.patient && referencesIn(rewritten.get(t.index)).includes(target.ref));
		if (owner?.patient) target.patient = owner.patient;
		else
			issues.push({
				path: `$.entry[${target.index}].resource`,
				message: 'is about no Patient in this Bundle or on this ledger (subject, patient or beneficiary, or a record referring to it)'
			});
	}
	const patientKeys = new Set(targets.filter((t) => t?.kind === 'patient').map((t) => t!.id));
	for (const target of targets) {
		if (target?.kind === 'record' && target.patient && !patientKeys.has(target.patient) && !known.refs.has(`Patient/${target.patient}`)) {
			issues.push({ path: `$.entry[${target.index}].resource`, message: 'refers to a Patient neither in this Bundle nor on this ledger' });
		}
	}
	return rewritten;
}
