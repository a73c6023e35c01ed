/**
 * The ledger of open-ledger.ts on disk, in the app's IndexedDB layout (schema 5, as
 * tests/e2e/fixtures/seeded-ledger.ts writes it), in pieces a page can load one after
 * another (1,000,000 blocks do not fit one message):
 *
 *   manifest.json        network, sizes, counts, heads, meta, the checkpoint's position and
 *                        count, the identity record (the founder's key encrypted under the
 *                        bench passphrase), the chunk count, the build's timings
 *   chunk-N.json/.bin    CHUNK_SEGMENTS segments each: every segment record's fields and
 *                        summary (packed by the store's own packSegment, 500 blocks in
 *                        (clock, id) order, as the store packs an append of them); .bin
 *                        holds their block bytes one after another
 *   checkpoint.bin       the checkpoint's state bytes
 *   facts-N.json         FACT_CHUNK rows each of the app's index folds (APP_INDEXES) as the
 *                        `facts` store keeps them ({f, k, c, b, n, v}), built in Node by the
 *                        app's own index engine with the checkpoint; the meta entries that
 *                        say which folds and versions they are (index.folds, index.voids)
 *                        are in the manifest's meta, so the app's first open builds no index
 *
 * Byte arrays inside manifest values are tagged {$u8: base64} for the page to revive.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { publicKeyOf, type AuthorId, type BlockId, type StoredBlock } from '../../src/lib/core/index.js';
import { testSecret } from '../../src/lib/core/testing/fixtures.js';
import { SEGMENT_BLOCKS, packSegment } from '../../src/lib/core/storage/segment.js';
import { SCHEMA_VERSION } from '../../src/lib/core/storage/indexeddb-schema.js';
import { toRecord } from '../../src/lib/core/storage/indexeddb-facts.js';
import { encryptIdentity } from '../../src/lib/domain/keystore.js';
import { LABELS, T0 } from './merge-workload.js';
import { foldOpenLedger, receiveOpenLedger } from './open-ledger.js';

/** Raised when the files below change shape. */
export const FIXTURE_FORMAT = 2;
/** The schema the page writes (its object stores are created as schema 5 lays them out). */
export const FIXTURE_SCHEMA = 5;
/** Index rows per facts file (one page-side transaction each). */
export const FACT_CHUNK = 50_000;
/** Segments per chunk file (10,000 blocks): one page-side transaction each. */
export const CHUNK_SEGMENTS = 20;

const tag = (value: unknown): unknown => {
	if (value instanceof Uint8Array) return { $u8: Buffer.from(value).toString('base64') };
	if (Array.isArray(value)) return value.map(tag);
	if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tag(v)]));
	return value;
};

export interface OpenManifest {
	format: number;
	schema: number;
	/** The app's schema when the fixture was built (a later one migrates the fixture at the first open). */
	appSchema: number;
	net: string;
	name: string;
	blocks: number;
	patients: number;
	counts: Record<string, number>;
	timings: Record<string, number>;
	heads: unknown[];
	meta: [string, unknown][];
	/** The checkpoint in checkpoint.bin; `failures`: the later ones the app could not write, and why. */
	checkpoint: { position: [number, string]; count: number; bytes: number; failures: string[] };
	identity: unknown;
	chunks: number;
	segments: number;
	bytes: number;
	/** Index rows, and the facts files holding them. */
	facts: { rows: number; chunks: number };
}

/** The widest spacing of the app's checkpoints (fold-engine.ts: 20 x the default 1,000 blocks). */
const WIDEST_GAP = 20_000;

/** Writes the received ledger's segments, in chunk files, and ledger.json into `dir`. */
async function writeBlocks(dir: string, blocks: number, patients: number, log: (m: string) => void) {
	const built = await receiveOpenLedger({ blocks, patients }, log);
	log(`${blocks.toLocaleString('en')} blocks received in ${(built.timings.total! / 1000).toFixed(0)} s; writing their segments`);
	mkdirSync(dir, { recursive: true });
	const { rows } = built;
	let segments = 0;
	let chunks = 0;
	let total = 0;
	for (let from = 0; from < rows.length; from += SEGMENT_BLOCKS * CHUNK_SEGMENTS, chunks++) {
		const index: unknown[] = [];
		const parts: Uint8Array[] = [];
		let start = 0;
		for (let s = 0; s < CHUNK_SEGMENTS && from + s * SEGMENT_BLOCKS < rows.length; s++, segments++) {
			const at = from + s * SEGMENT_BLOCKS;
			const { record, summary } = packSegment(rows.slice(at, at + SEGMENT_BLOCKS));
			const end = start + record.bytes.length;
			const { ids, authors, author, seq, clock, ends, vv, vvEnds } = record;
			index.push({
				ids,
				authors,
				author: [...author],
				seq: [...seq],
				clock: [...clock],
				ends: [...ends],
				vv: [...vv],
				vvEnds: [...vvEnds],
				start,
				end,
				summary
			});
			parts.push(record.bytes);
			start = end;
		}
		total += start;
		writeFileSync(join(dir, `chunk-${chunks}.json`), JSON.stringify(index));
		writeFileSync(join(dir, `chunk-${chunks}.bin`), Buffer.concat(parts));
	}
	const ledger = {
		net: built.net,
		name: built.name,
		heads: built.heads,
		meta: built.meta.map(([k, v]) => [k, tag(v)]),
		counts: built.counts,
		timings: built.timings,
		chunks,
		segments,
		bytes: total
	};
	writeFileSync(join(dir, 'ledger.json'), JSON.stringify(ledger));
}

const revive = (value: unknown): unknown => {
	if (Array.isArray(value)) return value.map(revive);
	if (value && typeof value === 'object') {
		if ('$u8' in value) return new Uint8Array(Buffer.from((value as { $u8: string }).$u8, 'base64'));
		return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
	}
	return value;
};

/** One segment in a chunk's JSON: the record's fields as plain arrays, where its bytes are in the .bin. */
interface ChunkSegment {
	ids: BlockId[];
	authors: AuthorId[];
	author: number[];
	seq: number[];
	clock: number[];
	ends: number[];
	vv: number[];
	vvEnds: number[];
	start: number;
	end: number;
}

/** The stored rows of the chunk files in `dir`, in order. */
function readRows(dir: string, chunks: number): StoredBlock[] {
	const rows: StoredBlock[] = [];
	for (let c = 0; c < chunks; c++) {
		const index = JSON.parse(readFileSync(join(dir, `chunk-${c}.json`), 'utf8')) as ChunkSegment[];
		const bin = readFileSync(join(dir, `chunk-${c}.bin`));
		for (const s of index) {
			const { ids, authors, author, seq, clock, ends, vv, vvEnds, start } = s;
			for (let i = 0; i < ids.length; i++) {
				const from = i === 0 ? 0 : ends[i - 1]!;
				const vvFrom = i === 0 ? 0 : vvEnds[i - 1]!;
				rows.push({
					id: ids[i]!,
					author: authors[author[i]!]!,
					seq: seq[i]!,
					clock: clock[i]!,
					bytes: new Uint8Array(bin.subarray(start + from, start + ends[i]!)),
					vv: vv.slice(vvFrom, vvEnds[i])
				});
			}
		}
	}
	return rows;
}

/**
 * Builds the fixture into `dir` (which must not exist: the caller renames it into place).
 * The received blocks are kept in `blocksDir` first, so a failed fold does not receive
 * them again. The checkpoint is the one at the head; when the app's fold engine cannot
 * write that one (a fold's state too large to encode), the latest it could have written
 * (checkpoints are at most WIDEST_GAP blocks apart), and why, is in the manifest.
 */
export async function writeOpenFixture(
	dir: string,
	blocksDir: string,
	{ blocks, patients, passphrase }: { blocks: number; patients: number; passphrase: string },
	log: (m: string) => void
): Promise<OpenManifest> {
	if (!existsSync(join(blocksDir, 'ledger.json'))) {
		const partial = `${blocksDir}.partial-${process.pid}`;
		await writeBlocks(partial, blocks, patients, log);
		renameSync(partial, blocksDir);
	} else log(`received blocks from ${blocksDir}`);
	const ledger = JSON.parse(readFileSync(join(blocksDir, 'ledger.json'), 'utf8'));
	const rows = readRows(blocksDir, ledger.chunks);
	const meta = (ledger.meta as [string, unknown][]).map(([k, v]) => [k, revive(v)] as [string, unknown]);
	const failures: string[] = [];
	let folded: Awaited<ReturnType<typeof foldOpenLedger>> | undefined;
	for (let upTo = blocks; !folded && upTo > blocks - 5 * WIDEST_GAP; upTo = Math.floor((upTo - 1) / WIDEST_GAP) * WIDEST_GAP) {
		log(`folding ${upTo.toLocaleString('en')} blocks with the app's folds for the checkpoint`);
		try {
			folded = await foldOpenLedger(rows, meta, upTo);
		} catch (error) {
			if (!(error instanceof RangeError)) throw error;
			failures.push(`at block ${upTo}: ${error.name}: ${error.message}`);
			log(`no checkpoint at block ${upTo.toLocaleString('en')}: ${error.message}`);
		}
	}
	if (!folded) throw new Error(`open fixture: no checkpoint could be written (${failures.join('; ')})`);
	const { checkpoint } = folded;
	log(
		`checkpoint at block ${checkpoint.count.toLocaleString('en')}: ${(checkpoint.state.length / 1e6).toFixed(1)} MB (fold ${(folded.foldMs / 1000).toFixed(0)} s, encode ${(folded.encodeMs / 1000).toFixed(0)} s)`
	);
	cpSync(blocksDir, dir, { recursive: true });
	writeFileSync(join(dir, 'checkpoint.bin'), checkpoint.state);
	const facts = { rows: 0, chunks: 0 };
	for await (const page of folded.facts(FACT_CHUNK)) {
		const records = page.map((r) => tag(toRecord(r)));
		writeFileSync(join(dir, `facts-${facts.chunks++}.json`), JSON.stringify(records));
		facts.rows += page.length;
	}
	log(`${facts.rows.toLocaleString('en')} index rows in ${facts.chunks} files`);
	const secretKey = testSecret(LABELS.x);
	const identity = await encryptIdentity({ secretKey, publicKey: publicKeyOf(secretKey), createdAt: T0 }, passphrase, {
		purpose: 'stored'
	});
	const manifest: OpenManifest = {
		...ledger,
		format: FIXTURE_FORMAT,
		schema: FIXTURE_SCHEMA,
		appSchema: SCHEMA_VERSION,
		blocks,
		patients,
		timings: { ...ledger.timings, fold: folded.foldMs, encode: folded.encodeMs },
		meta: [...ledger.meta, ...folded.indexMeta.map(([k, v]) => [k, tag(v)])],
		checkpoint: { position: [...checkpoint.position], count: checkpoint.count, bytes: checkpoint.state.length, failures },
		identity: tag(identity),
		facts
	};
	writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
	return manifest;
}
