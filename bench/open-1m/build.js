// Builds one fixture of bench/open-1m.js in its own process (the builder holds the whole
// ledger and its fold state: several GB, given back when it exits):
//   node --max-old-space-size=16384 bench/open-1m/build.js <dir> <blocks> <patients> <passphrase>
// Writes into <dir>.partial-<pid>, then renames it to <dir>; the received blocks are kept in
// <dir>.blocks until then (a failed fold does not make and receive them again).
import { renameSync, rmSync } from 'node:fs';
import { sourceLoader } from '../../scripts/source-loader.js';

const [dir, blocks, patients, passphrase] = process.argv.slice(2);
const started = performance.now();
const log = (m) => process.stderr.write(`[open-1m build ${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${m}\n`);
const vite = await sourceLoader();
const partial = `${dir}.partial-${process.pid}`;
try {
	const { writeOpenFixture } = await vite.ssrLoadModule('/bench/node/open-fixture.ts');
	const manifest = await writeOpenFixture(
		partial,
		`${dir}.blocks`,
		{ blocks: Number(blocks), patients: Number(patients), passphrase },
		log
	);
	renameSync(partial, dir);
	rmSync(`${dir}.blocks`, { recursive: true, force: true });
	log(`written ${dir}: ${JSON.stringify(manifest.counts)}; timings ${JSON.stringify(manifest.timings)}`);
} catch (error) {
	rmSync(partial, { recursive: true, force: true });
	throw error;
} finally {
	await vite.close();
}
