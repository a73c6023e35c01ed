/**
 * The field checks the clinic's record rules (fhir.ts `validateResource`) are made of:
 * required fields, allowed values, FHIR dates, coded concepts and patient references,
 * each problem recorded with its JSON path.
 */
import type { FhirIssue } from './fhir-issue.js';

const DATE = /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/;
export const DATETIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d\d:\d\d))?$/;

export type Json = Record<string, unknown>;
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Collects the issues of one resource, each with its JSON path under `root`. */
export class Checker {
	readonly issues: FhirIssue[] = [];
	constructor(readonly root: string) {}
	fail(path: string, message: string) {
		this.issues.push({ path: `${this.root}${path}`, message });
	}
	required(r: Json, field: string): boolean {
		if (
			r[field] === undefined ||
			r[field] === null ||
			r[field] === '' ||
			(Array.isArray(r[field]) && (r[field] as unknown[]).length === 0)
		) {
			this.fail(`.${field}`, 'is required');
			return false;
		}
		return true;
	}
	oneOf(r: Json, field: string, values: readonly string[], required = true) {
		if (r[field] === undefined) {
			if (required) this.fail(`.${field}`, `is required (one of ${values.join(', ')})`);
		} else if (typeof r[field] !== 'string' || !values.includes(r[field] as string))
			this.fail(`.${field}`, `must be one of ${values.join(', ')}`);
	}
	date(r: Json, field: string, kind: 'date' | 'dateTime', required = false) {
		const v = r[field];
		if (v === undefined) {
			if (required) this.fail(`.${field}`, 'is required');
			return;
		}
		if (
			typeof v !== 'string' ||
			!(kind === 'date' ? DATE : DATETIME).test(v) ||
			Number.isNaN(Date.parse(v.length === 4 ? `${v}-01-01` : v.length === 7 ? `${v}-01` : v))
		)
			this.fail(`.${field}`, `must be a FHIR ${kind} (e.g. ${kind === 'date' ? '1980-04-12' : '2026-11-26T09:30:00Z'})`);
	}
	/** A CodeableConcept with at least one coding from `systems` (any system when empty). */
	concept(r: Json, field: string, systems: readonly string[], required = true) {
		const v = r[field];
		if (v === undefined) {
			if (required) this.fail(`.${field}`, 'is required');
			return;
		}
		if (!isObject(v)) return this.fail(`.${field}`, 'must be a CodeableConcept');
		const codings = v.coding;
		if (!Array.isArray(codings) || codings.length === 0) {
			if (typeof v.text !== 'string' || systems.length > 0)
				this.fail(`.${field}.coding`, systems.length ? `needs a coding from ${systems.join(' or ')}` : 'needs a coding or text');
			return;
		}
		codings.forEach((c, i) => {
			if (!isObject(c) || typeof c.code !== 'string' || c.code.trim() === '') this.fail(`.${field}.coding[${i}].code`, 'is required');
			else if (typeof c.system !== 'string') this.fail(`.${field}.coding[${i}].system`, 'is required');
		});
		if (systems.length && !codings.some((c) => isObject(c) && systems.includes(c.system as string)))
			this.fail(`.${field}.coding`, `needs a coding from ${systems.join(' or ')}`);
	}
	reference(r: Json, field: string, patient: string | null, required = true) {
		const v = r[field];
		if (v === undefined) {
			if (required) this.fail(`.${field}`, 'is required');
			return;
		}
		if (!isObject(v) || typeof v.reference !== 'string') return this.fail(`.${field}.reference`, 'is required');
		if (field === 'subject' || field === 'patient') {
			if (!/^Patient\/[0-9a-f]{64}$/.test(v.reference)) this.fail(`.${field}.reference`, 'must be Patient/<64 hex patient key>');
			else if (patient && v.reference !== `Patient/${patient}`) this.fail(`.${field}.reference`, 'points at another patient');
		}
	}
}
