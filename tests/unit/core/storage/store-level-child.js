// A LevelStore in a process of its own, for tests/unit/core/storage/store-level-crash.test.ts: the test
// kills it (SIGKILL) in the middle of its writes. The store is TypeScript, loaded through
// Vite as peer/main.js does. argv: <mode> <database directory>.
//   appends  appends batch after batch (3 blocks and meta `batches` each, continuing from
//            what the database holds) and sends `{ acked }` after each one resolved
//   torn     appends one batch, sends `{ log }` (the size of LevelDB's write-ahead log),
//            appends a larger batch with meta, sends `{ log }` again, then waits
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sourceLoader } from '../../../../scripts/source-loader.js';

const mode = process.argv[2];
const path = process.argv[3] ?? '';
const vite = await sourceLoader();
const { LevelStore } = await vite.ssrLoadModule('/src/lib/core/storage/level.ts');
const { row } = await vite.ssrLoadModule('/src/lib/core/testing/store-acceptance.ts');

/** Batch `i`: one block of each of three authors at seq `i`. */
const batch = (/** @type {number} */ i) => [row(1, i, 2 * i), row(2, i, 2 * i + 1), row(3, i, 2 * i + 1)];
/** Size of the newest write-ahead log (`000NNN.log`) of the database. */
const logSize = () => {
	const logs = readdirSync(path)
		.filter((f) => /^\d+\.log$/.test(f))
		.sort();
	return statSync(join(path, logs.at(-1) ?? '')).size;
};
const send = (/** @type {object} */ message) => new Promise((resolve) => process.send?.(message, resolve));

const store = await LevelStore.open(path);
if (mode === 'appends') {
	let i = (await store.getMeta('batches')) ?? 0;
	for (;;) {
		await store.append(batch(i), { batches: i + 1 });
		i++;
		await send({ acked: i });
	}
} else if (mode === 'torn') {
	await store.append(batch(0), { batches: 1 });
	await send({ log: logSize() });
	const big = Array.from({ length: 40 }, (_, k) => ({ ...row(4, k, 10 + k), bytes: new Uint8Array(300).fill(k) }));
	await store.append(big, { batches: 2, note: 'x'.repeat(100) });
	await send({ log: logSize() });
	setInterval(() => {}, 1000);
}
