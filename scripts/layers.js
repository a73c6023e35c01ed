// The layer check (`npm run lint`, `npm test`): dependency-cruiser with the rules of
// .dependency-cruiser.cjs over src/. Exits non-zero on any violation not listed in
// scripts/layers-known.json, and on any listed one that is gone (the list may only shrink:
// delete the entry). Runs on the tree of the current directory, so tests can point it at
// a temporary tree.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const root = process.cwd();
const options = await extractDepcruiseOptions(resolve(root, '.dependency-cruiser.cjs'));
const tsConfig = extractTSConfig(resolve(root, options.tsConfig.fileName));
const { output } = await cruise(['src'], { ...options, validate: true, outputType: 'json' }, {}, { tsConfig });
const result = typeof output === 'string' ? JSON.parse(output) : output;

const key = (v) => `${v.rule.name}: ${v.from} → ${v.to}`;
const found = result.summary.violations.map(key);
const knownFile = resolve(root, 'scripts/layers-known.json');
/** @type {string[]} */
const known = existsSync(knownFile) ? JSON.parse(readFileSync(knownFile, 'utf8')) : [];

const fresh = found.filter((v) => !known.includes(v));
const stale = known.filter((v) => !found.includes(v));
for (const v of fresh) console.log(`layer violation ${v}`);
for (const v of stale) console.log(`fixed, delete from scripts/layers-known.json: ${v}`);
console.log(
	`layers: ${result.summary.totalCruised} modules, ${result.summary.totalDependenciesCruised} imports; ${fresh.length} new violations, ${found.length - fresh.length} known, ${stale.length} stale`
);
process.exit(fresh.length + stale.length === 0 ? 0 : 1);
