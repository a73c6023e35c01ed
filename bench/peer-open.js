// `npm run bench` (headless peer part):
//
//   peer_open_1m_ms   the headless peer's ledger store holding 1,000,000 blocks, from open
//                     to ready (heads and block count read), as peer/peer.ts opens it:
//                     the LevelDB database (core/storage/level.ts, through
//                     peer/ledger-store.ts) against the baseline, the append-only ledger
//                     file an older peer replayed into memory (core/storage/file.ts).
//                     Median of the runs. Goal < 2,000 ms.
//
// Stores hold bytes and do not verify them, so the blocks are synthetic StoredBlock
// records of realistic size (300 bytes of block, 64-hex ids and authors, 40 authors
// with consecutive seqs, clocks rising, version vectors of 4 pairs), written in
// batches of 10,000 into both stores, which are then closed and each opened again.
//
//   node bench/peer-open.js            1,000,000 blocks (writing them dominates: about 30 minutes on
//                                      2 shared cores; 1 GB of disk)
//   node bench/peer-open.js --quick    100,000 blocks
//   node bench/peer-open.js --keep     leave the stores in the temporary directory
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourceLoader } from '../scripts/source-loader.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const BLOCKS = quick ? 100_000 : 1_000_000;
const BATCH = 10_000;
const AUTHORS = 40;
const BLOCK_BYTES = 300;
const RUNS = { level: 5, file: 3 };
const GOAL = 2000;
const started = performance.now();
const log = (message) =>
	process.stderr.write(`[bench peer-open ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const hex = (label) => createHash('sha256').update(label).digest('hex');

const vite = await sourceLoader();
const { FileStore } = await vite.ssrLoadModule('/src/lib/core/storage/file.ts');
const { openPeerStore } = await vite.ssrLoadModule('/peer/ledger-store.ts');

const authors = Array.from({ length: AUTHORS }, (_, i) => hex(`author ${i}`));
const filler = Uint8Array.from({ length: BLOCK_BYTES }, (_, i) => (i * 131 + 7) & 255);

/** Blocks `from` .. `from + n - 1`: author i % AUTHORS at seq floor(i / AUTHORS), clock rising every 4 blocks. */
function blocks(from, n) {
	const out = [];
	for (let i = from; i < from + n; i++) {
		const a = i % AUTHORS;
		const seq = Math.floor(i / AUTHORS);
		const bytes = filler.slice();
		new DataView(bytes.buffer).setUint32(0, i);
		out.push({
			id: hex(`block ${i}`),
			author: authors[a],
			seq,
			clock: Math.floor(i / 4),
			bytes,
			vv: [
				a,
				seq,
				(a + 1) % AUTHORS,
				Math.max(0, seq - 1),
				(a + 2) % AUTHORS,
				Math.max(0, seq - 1),
				(a + 3) % AUTHORS,
				Math.max(0, seq - 2)
			]
		});
	}
	return out;
}

const dir = mkdtempSync(join(tmpdir(), 'bench-peer-open-'));
const filePath = join(dir, 'ledger-file.log');
const levelPath = join(dir, 'ledger-db.log');
const results = {};
try {
	log(`writing ${BLOCKS.toLocaleString('en')} blocks of ${BLOCK_BYTES} B into both stores (${dir})`);
	const file = await FileStore.open(filePath);
	const level = await openPeerStore(levelPath);
	const write = { file: 0, level: 0 };
	for (let from = 0; from < BLOCKS; from += BATCH) {
		const batch = blocks(from, Math.min(BATCH, BLOCKS - from));
		const meta = from === 0 ? { net: hex('net'), authors, membership: [] } : {};
		let t = performance.now();
		await file.append(batch, meta);
		write.file += performance.now() - t;
		t = performance.now();
		await level.append(batch, meta);
		write.level += performance.now() - t;
		if ((from / BATCH) % 20 === 19) log(`${(from + BATCH).toLocaleString('en')} blocks written`);
	}
	const last = blocks(BLOCKS - 1, 1)[0];
	for (const store of [file, level]) {
		await store.putCheckpoint({ position: [last.clock, last.id], count: BLOCKS, state: new Uint8Array(4096) });
		await store.close();
	}
	log(`written: file ${(write.file / 1000).toFixed(1)} s, leveldb ${(write.level / 1000).toFixed(1)} s`);

	const openToReady = async (open) => {
		const t = performance.now();
		const store = await open();
		const heads = await store.heads();
		const count = await store.count();
		const ms = performance.now() - t;
		await store.close();
		if (count !== BLOCKS || heads.length !== AUTHORS) throw new Error(`store opened with ${count} blocks, ${heads.length} heads`);
		return Math.round(ms);
	};
	for (const [kind, open] of [
		['level', () => openPeerStore(levelPath)],
		['file', () => FileStore.open(filePath)]
	]) {
		results[kind] = [];
		for (let run = 0; run < RUNS[kind]; run++) {
			results[kind].push(await openToReady(open));
			log(`${kind === 'level' ? 'leveldb' : 'file'} open ${run + 1}/${RUNS[kind]}: ${results[kind].at(-1)} ms`);
		}
	}
} finally {
	await vite.close();
	if (argv.includes('--keep')) log(`stores kept in ${dir}`);
	else rmSync(dir, { recursive: true, force: true });
}

const value = median(results.level);
const baseline = median(results.file);
console.log(
	`\nclinic-ledger headless peer benchmarks${quick ? ' (--quick: 100,000 blocks, not comparable with the goal)' : ''}; Node ${process.version}`
);
console.log(
	`peer_open_1m_ms   ${String(value).padStart(8)} ms  < ${GOAL}${value < GOAL ? ' met' : ' MISSED'}  leveldb runs ${results.level.join(', ')}`
);
console.log(
	`  baseline        ${String(baseline).padStart(8)} ms  ledger file replayed into memory, runs ${results.file.join(', ')}; ${(baseline / value).toFixed(0)}x faster`
);
console.log(
	JSON.stringify({ metric: 'peer_open_1m_ms', value, unit: 'ms', baseline, goal: GOAL, ratio: Number((baseline / value).toFixed(1)) })
);
