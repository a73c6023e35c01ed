/**
 * Structural validation of FHIR R4 resources: @medplum/core's validator (element names,
 * cardinality, JSON types, primitive formats, required elements, FHIRPath invariants)
 * over the StructureDefinitions of the stored types only (r4-definitions.json, made by
 * scripts/fhir-definitions.js), plus the rules it does not check: per-1 (a period ends
 * after it starts), the id pattern, empty values, calendar dates (`1980-02-30`) and
 * narrative that could run in a browser. Errors here are real R4 violations only; the
 * clinic's own preferences (code systems, units, plausible ranges) are warnings made
 * elsewhere.
 *
 * This module carries the definitions (about 0.9 MB of JSON): the app loads it with a
 * dynamic import when a Bundle is opened, never at start.
 */
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource as medplumValidate } from '@medplum/core';
import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import shipped from './r4-definitions.json';
import type { FhirIssue } from './fhir.js';
import { isObject } from './json-input.js';

let indexed = false;
function ensureIndexed(): void {
	if (indexed) return;
	indexStructureDefinitionBundle(shipped.definitions as unknown as StructureDefinition[]);
	indexed = true;
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const DATE_LIKE = /^(\d{4})-(\d{2})-(\d{2})(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,9})?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?$/;
const PARTIAL_DATE = /^\d{4}(-(0[1-9]|1[0-2]))?$/;
/** Elements and attributes of active or page-altering content: R4 narrative is limited to basic HTML without them (txt-1, txt-2). */
const UNSAFE_NARRATIVE = [
	/<\s*\/?\s*(script|style|iframe|frame|frameset|object|embed|applet|form|input|button|textarea|select|option|link|meta|base|head|body|html|svg|math)\b/i,
	/<[^>]*\son[a-z]+\s*=/i,
	/(href|src|action|xlink:href)\s*=\s*["']?\s*(javascript|vbscript|data)\s*:/i,
	/<!\[CDATA\[|<!DOCTYPE|<\?/i
];

/** Codes allowed by each required binding the validator leaves unchecked (`Encounter.status` → codes). */
const REQUIRED_CODES = new Map(
	Object.entries(shipped.requiredCodes as Record<string, string[]>).map(([path, codes]) => [path, new Set(codes)])
);

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** Earliest and latest instant (ms) a FHIR date or dateTime may mean; null when it is not one. */
function bounds(value: string): [number, number] | null {
	if (PARTIAL_DATE.test(value)) {
		const [y, m] = value.split('-').map(Number) as [number, number | undefined];
		const start = Date.UTC(y, (m ?? 1) - 1, 1);
		const end = m ? Date.UTC(y, m, 1) : Date.UTC(y + 1, 0, 1);
		return [start - 14 * 3600_000, end + 14 * 3600_000];
	}
	const match = DATE_LIKE.exec(value);
	if (!match) return null;
	if (!match[4]) {
		const start = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
		return [start - 14 * 3600_000, start + 38 * 3600_000];
	}
	const at = Date.parse(value);
	return Number.isNaN(at) ? null : [at, at];
}

/** The rules @medplum/core leaves out, over every element of `value`. */
function invariantIssues(value: unknown, path: string, issues: FhirIssue[]): void {
	if (Array.isArray(value)) {
		if (value.length === 0) issues.push({ path, message: 'is an empty array (R4 JSON leaves empty elements out)' });
		value.forEach((v, i) => invariantIssues(v, `${path}[${i}]`, issues));
		return;
	}
	if (typeof value === 'string') {
		if (value.trim() === '') issues.push({ path, message: 'is an empty string (R4 leaves empty values out)' });
		const date = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
		if (date && DATE_LIKE.test(value)) {
			const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
			if (m < 1 || m > 12 || d < 1 || d > daysIn(y, m)) issues.push({ path, message: `${value} is not a calendar date` });
		}
		return;
	}
	if (!isObject(value)) return;
	if (Object.keys(value).length === 0) issues.push({ path, message: 'is an empty object (R4 JSON leaves empty elements out)' });
	if (typeof value.resourceType === 'string') {
		if (value.id !== undefined && (typeof value.id !== 'string' || !ID.test(value.id)))
			issues.push({ path: `${path}.id`, message: 'must be 1-64 letters, digits, "-" or "." (R4 id)' });
		for (const [key, v] of Object.entries(value)) {
			const allowed = REQUIRED_CODES.get(`${value.resourceType}.${key}`);
			if (!allowed) continue;
			(Array.isArray(v) ? v : [v]).forEach((code, i) => {
				if (typeof code === 'string' && !allowed.has(code))
					issues.push({
						path: `${path}.${key}${Array.isArray(v) ? `[${i}]` : ''}`,
						message: `"${code}" is not in the required value set (${[...allowed].join(', ')})`
					});
			});
		}
	}
	if (typeof value.start === 'string' && typeof value.end === 'string') {
		const start = bounds(value.start);
		const end = bounds(value.end);
		if (start && end && start[0] > end[1]) issues.push({ path: `${path}.end`, message: `is before the start ${value.start} (per-1)` });
	}
	if (typeof value.div === 'string' && typeof value.status === 'string') {
		if (!/^<div\s[^>]*xmlns\s*=\s*["']http:\/\/www\.w3\.org\/1999\/xhtml["']/.test(value.div.trimStart()))
			issues.push({ path: `${path}.div`, message: 'must be an XHTML <div xmlns="http://www.w3.org/1999/xhtml">' });
		if (UNSAFE_NARRATIVE.some((re) => re.test(value.div as string)))
			issues.push({
				path: `${path}.div`,
				message: 'holds active content (script, style, forms, event handlers or script URLs): not allowed in R4 narrative (txt-1, txt-2)'
			});
	}
	for (const [k, v] of Object.entries(value)) invariantIssues(v, `${path}.${k}`, issues);
}

/**
 * `Observation.effective[x]` from the validator → `<root>.effectiveDateTime`: the JSON path
 * of the element, a choice element named by the key the resource actually uses.
 */
function pathOf(expression: string | undefined, root: string, resource: Record<string, unknown>): string {
	if (!expression) return root;
	const segments = expression.split('.').slice(1);
	let at: unknown = resource;
	let path = root;
	for (const segment of segments) {
		const m = /^([^[]+?)(\[x\])?((?:\[\d+\])*)$/.exec(segment);
		if (!m) return `${path}.${segments.slice(segments.indexOf(segment)).join('.')}`;
		let name = m[1]!;
		if (m[2] && isObject(at)) name = Object.keys(at).find((k) => k.startsWith(name) && /^[A-Z]/.test(k.slice(name.length))) ?? `${name}[x]`;
		path += `.${name}${m[3]}`;
		at = isObject(at) ? at[name] : undefined;
		for (const index of m[3]!.match(/\d+/g) ?? []) at = Array.isArray(at) ? at[Number(index)] : undefined;
	}
	return path;
}

/**
 * R4 errors in `resource` (a resource of a stored type), each with its JSON path under
 * `root`; empty when it is valid R4. Never throws.
 */
export function r4Issues(resource: unknown, root = '$'): FhirIssue[] {
	const issues: FhirIssue[] = [];
	if (!isObject(resource) || typeof resource.resourceType !== 'string') return [{ path: `${root}.resourceType`, message: 'is required' }];
	ensureIndexed();
	try {
		for (const issue of medplumValidate(resource as unknown as Resource))
			if (issue.severity === 'error' || issue.severity === 'fatal')
				issues.push({ path: pathOf(issue.expression?.[0], root, resource), message: issue.details?.text ?? 'is invalid' });
	} catch (error) {
		if (!(error instanceof OperationOutcomeError))
			issues.push({ path: root, message: `could not be validated: ${(error as Error).message}` });
		else
			for (const issue of error.outcome.issue ?? [])
				if (issue.severity === 'error' || issue.severity === 'fatal')
					issues.push({ path: pathOf(issue.expression?.[0], root, resource), message: issue.details?.text ?? 'is invalid' });
	}
	invariantIssues(resource, root, issues);
	return issues;
}

const BUNDLE_ELEMENTS = new Set([
	'resourceType',
	'id',
	'meta',
	'implicitRules',
	'language',
	'identifier',
	'type',
	'timestamp',
	'total',
	'link',
	'entry',
	'signature'
]);
const ENTRY_ELEMENTS = new Set(['id', 'extension', 'modifierExtension', 'link', 'fullUrl', 'resource', 'search', 'request', 'response']);

/**
 * R4 errors in a Bundle's own elements (its resources are validated one by one):
 * unknown elements, and the invariants above. Never throws.
 */
export function envelopeIssues(bundle: Record<string, unknown>): FhirIssue[] {
	const issues: FhirIssue[] = [];
	for (const key of Object.keys(bundle))
		if (!BUNDLE_ELEMENTS.has(key)) issues.push({ path: `$.${key}`, message: `Invalid additional property "${key}"` });
	const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
	entries.forEach((entry, i) => {
		if (!isObject(entry)) return;
		for (const key of Object.keys(entry))
			if (!ENTRY_ELEMENTS.has(key)) issues.push({ path: `$.entry[${i}].${key}`, message: `Invalid additional property "${key}"` });
		for (const [k, v] of Object.entries(entry)) if (k !== 'resource') invariantIssues(v, `$.entry[${i}].${k}`, issues);
	});
	for (const [k, v] of Object.entries(bundle)) if (k !== 'entry') invariantIssues(v, `$.${k}`, issues);
	return issues;
}
