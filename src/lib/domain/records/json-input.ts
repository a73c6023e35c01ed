/**
 * Untrusted JSON in, checked before any work: size first, then nesting depth (counted on
 * the text, so a 10,000-deep document never reaches a recursive walk), then parsing, then
 * the keys. `JSON.parse` makes `__proto__` an ordinary own key, but any later `out[k] =`
 * with it would call the prototype setter and drop the value: such keys are refused with
 * their path, and every copy made afterwards defines properties instead of assigning.
 */
import type { FhirIssue } from './fhir-issue.js';

/** Deepest nesting of objects and arrays taken (R4 resources from real systems stay under 20). */
export const MAX_DEPTH = 64;
/** Keys that name prototype machinery in JavaScript and nothing in FHIR. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

type Json = Record<string, unknown>;
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The deepest nesting of `text` as JSON (strings skipped), stopping as soon as it passes `limit`. */
export function textDepth(text: string, limit = MAX_DEPTH): number {
	let depth = 0;
	let deepest = 0;
	let inString = false;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (inString) {
			if (c === 0x5c)
				i++; // backslash: skip the escaped character
			else if (c === 0x22) inString = false;
		} else if (c === 0x22) inString = true;
		else if (c === 0x7b || c === 0x5b) {
			if (++depth > deepest) deepest = depth;
			if (deepest > limit) return deepest;
		} else if (c === 0x7d || c === 0x5d) depth--;
	}
	return deepest;
}

/** Problems with the shape of parsed JSON: too deep, or a forbidden key. Iterative: no stack to overflow. */
export function shapeIssues(value: unknown, root = '$', limit = MAX_DEPTH): FhirIssue[] {
	const issues: FhirIssue[] = [];
	const stack: [unknown, string, number][] = [[value, root, 0]];
	while (stack.length) {
		const [v, path, depth] = stack.pop()!;
		if (typeof v !== 'object' || v === null) continue;
		if (depth >= limit) {
			issues.push({ path, message: `is nested deeper than ${limit} levels` });
			continue;
		}
		if (Array.isArray(v)) {
			for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`, depth + 1]);
			continue;
		}
		const keys = Object.keys(v);
		for (let i = keys.length - 1; i >= 0; i--) {
			const key = keys[i]!;
			if (FORBIDDEN_KEYS.has(key))
				issues.push({ path: `${path}.${key}`, message: 'is not a FHIR element (a JavaScript prototype key): refused' });
			else stack.push([(v as Json)[key], `${path}.${key}`, depth + 1]);
		}
	}
	return issues;
}

/**
 * Parses `text` (at most `maxChars`) as JSON after checking its depth; the value, or the
 * issues that stopped it (nothing else was done with the text).
 */
export function parseJson(text: string, maxChars: number): { value: unknown; issues: FhirIssue[] } {
	if (text.length > maxChars)
		return { value: undefined, issues: [{ path: '$', message: `is larger than ${Math.round(maxChars / 1024 / 1024)} MB` }] };
	if (textDepth(text) > MAX_DEPTH)
		return { value: undefined, issues: [{ path: '$', message: `is nested deeper than ${MAX_DEPTH} levels` }] };
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		return { value: undefined, issues: [{ path: '$', message: `is not JSON (${(error as Error).message})` }] };
	}
	return { value, issues: shapeIssues(value) };
}

/**
 * A deep copy of checked JSON in which every Reference (an object with a string
 * `reference`) is replaced by what `visit` makes of it; properties are defined, never
 * assigned. Recursion is safe here: the depth was checked first.
 */
export function mapReferences(value: unknown, visit: (reference: Json & { reference: string }) => Json): unknown {
	if (Array.isArray(value)) return value.map((v) => mapReferences(v, visit));
	if (!isObject(value)) return value;
	const copy = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapReferences(v, visit)]));
	return typeof copy.reference === 'string' ? visit(copy as Json & { reference: string }) : copy;
}

/** Every `reference` string in `value`, in document order. */
export function referencesIn(value: unknown, out: string[] = []): string[] {
	if (Array.isArray(value)) for (const v of value) referencesIn(v, out);
	else if (isObject(value))
		for (const [k, v] of Object.entries(value)) {
			if (k === 'reference' && typeof v === 'string') out.push(v);
			else referencesIn(v, out);
		}
	return out;
}
