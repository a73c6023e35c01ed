/**
 * The real third-party FHIR samples (../shared/fhir-samples, read-only, next to the
 * repository's clone): located from this file, never from the working directory, and a
 * clear failure naming the path when they are absent.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../..', import.meta.url));
export const SAMPLES_DIR = resolve(repoRoot, '../shared/fhir-samples');

function dir(sub: string): string {
	const path = join(SAMPLES_DIR, sub);
	if (!existsSync(path))
		throw new Error(
			`FHIR samples missing: ${path} does not exist (the tests read ../shared/fhir-samples next to the repository; see its README)`
		);
	return path;
}

/** Every Synthea Bundle: file name and text. */
export function syntheaBundles(): { name: string; text: string }[] {
	const path = dir('synthea');
	const files = readdirSync(path)
		.filter((f) => f.endsWith('.json'))
		.sort();
	if (files.length === 0) throw new Error(`FHIR samples missing: no .json in ${path}`);
	return files.map((name) => ({ name, text: readFileSync(join(path, name), 'utf8') }));
}

/** Every HL7 example resource, parsed, by file name. */
export function hl7Examples(): Map<string, Record<string, unknown>> {
	const path = dir('hl7-examples');
	return new Map(
		readdirSync(path)
			.filter((f) => f.endsWith('.json'))
			.sort()
			.map((name) => [name, JSON.parse(readFileSync(join(path, name), 'utf8')) as Record<string, unknown>])
	);
}
