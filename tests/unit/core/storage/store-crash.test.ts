/**
 * Power cuts and damaged disks under the stores: an acknowledged write survives whole, a
 * torn one is dropped whole, so the meta written with blocks (authors, roster, void set)
 * always agrees with the blocks.
 */
import 'fake-indexeddb/auto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { publicKeyOf } from '../../../../src/lib/core/crypto/ed25519.js';
import { Ledger } from '../../../../src/lib/core/ledger.js';
import { FileStore, LOG_MAGIC } from '../../../../src/lib/core/storage/file.js';
import { IndexedDBStore } from '../../../../src/lib/core/storage/indexeddb.js';
import type { LedgerStore } from '../../../../src/lib/core/storage/store.js';
import { fixedNow, foundNetwork, joinNetwork, syncInto, testSecret, testVerifier } from '../../../../src/lib/core/testing/fixtures.js';
import { row } from '../../../../src/lib/core/testing/store-acceptance.js';
import type { BlockId } from '../../../../src/lib/core/types.js';

// Thousands of reopens, each truncating and fsyncing: on a memory-backed directory when
// there is one (what is read back is under test here, not the disk's speed).
const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ledger-store-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A reopen per byte (about 1,200 on the store, 3,300 under the ledger): generous for a CI machine with both cores busy. */
const PER_BYTE_TIMEOUT = 180_000;

/** What a reopened store holds, in a form two stores can be compared by. */
async function snapshot(store: LedgerStore) {
	const blocks = (await store.ordered(null, 1000)).map((b) => b.id);
	const meta = Object.fromEntries(
		await Promise.all(['authors', 'membership', 'void', 'net'].map(async (k) => [k, await store.getMeta(k)] as const))
	);
	const heads = (await store.heads()).map((h) => `${h.author}:${h.seq}`).sort();
	return {
		blocks,
		meta,
		heads,
		checkpoint: (await store.checkpointAtOrBefore(null))?.count ?? null,
		evidence: (await store.evidence()).length
	};
}

/**
 * A ledger file holding a few acknowledged writes, then one multi-block append whose meta
 * is what the ledger writes with such a batch: new authors, the membership roster
 * (a revocation) and the void set it implies.
 */
async function writeLedgerFile(path: string) {
	const store = await FileStore.open(path);
	await store.append([row(1, 0, 0), row(1, 1, 1)], { net: 'n', authors: ['a1'], membership: [{ kind: 'add', member: 'a1' }] });
	await store.putCheckpoint({ position: [1, row(1, 1, 1).id], count: 2, state: new Uint8Array([7, 7]) });
	await store.putEvidence({
		id: 'e0' as BlockId,
		author: row(1, 0, 0).author,
		seq: 0,
		conflictsWith: row(1, 0, 0).id,
		bytes: new Uint8Array([1]),
		seenAt: 3
	});
	const before = await snapshot(store);
	const acknowledged = statSync(path).size;
	const batch = [row(2, 0, 2), row(2, 1, 3), row(3, 0, 3), row(1, 2, 4), row(3, 1, 5)];
	await store.append(batch, {
		authors: ['a1', 'a2', 'a3'],
		membership: [
			{ kind: 'add', member: 'a1' },
			{ kind: 'add', member: 'a2' },
			{ kind: 'add', member: 'a3' },
			{ kind: 'revoke', member: 'a2', cutoff: 0 }
		],
		void: { [row(2, 1, 3).id]: 'author a2 was revoked' }
	});
	const after = await snapshot(store);
	await store.close();
	return { before, after, acknowledged, bytes: readFileSync(path) };
}

describe('file store: power cut during an append', () => {
	it(
		'keeps the append whole or drops it whole, at every byte it could be cut',
		async () => {
			const { before, after, acknowledged, bytes } = await writeLedgerFile(join(dir, 'full.log'));
			expect(bytes.length - acknowledged).toBeGreaterThan(200);
			const path = join(dir, 'cut.log');
			for (let cut = acknowledged; cut <= bytes.length; cut++) {
				writeFileSync(path, bytes.subarray(0, cut));
				const store = await FileStore.open(path);
				const got = await snapshot(store);
				await store.close();
				expect(got, `cut at byte ${cut}`).toEqual(cut === bytes.length ? after : before);
				// The torn tail is gone from the file, so the next write follows whole records.
				expect(statSync(path).size, `cut at byte ${cut}`).toBe(cut === bytes.length ? bytes.length : acknowledged);
			}
		},
		PER_BYTE_TIMEOUT
	);

	it('after dropping a torn append, later appends land after the last whole record and survive', async () => {
		const { before, acknowledged, bytes } = await writeLedgerFile(join(dir, 'full-2.log'));
		const path = join(dir, 'cut-2.log');
		writeFileSync(path, bytes.subarray(0, acknowledged + Math.floor((bytes.length - acknowledged) / 2)));
		const store = await FileStore.open(path);
		await store.append([row(4, 0, 9)], { authors: ['a1', 'a4'] });
		await store.close();
		const again = await FileStore.open(path);
		expect((await again.ordered(null, 100)).map((b) => b.id)).toEqual([...before.blocks, row(4, 0, 9).id]);
		expect(await again.getMeta('authors')).toEqual(['a1', 'a4']);
		await again.close();
	});

	it(
		'drops the tail record whole when any one of its bytes is corrupt',
		async () => {
			const { before, acknowledged, bytes } = await writeLedgerFile(join(dir, 'full-3.log'));
			const path = join(dir, 'flipped.log');
			for (let at = acknowledged; at < bytes.length; at++) {
				const damaged = Uint8Array.from(bytes);
				damaged[at]! ^= 0x01;
				writeFileSync(path, damaged);
				const store = await FileStore.open(path);
				expect(await snapshot(store), `byte ${at} flipped`).toEqual(before);
				await store.close();
				expect(statSync(path).size).toBe(acknowledged);
			}
		},
		PER_BYTE_TIMEOUT
	);

	it('drops a tail the crash left as zeros (the file grew, its data never reached the disk)', async () => {
		const { before, acknowledged, bytes } = await writeLedgerFile(join(dir, 'full-4.log'));
		const path = join(dir, 'zeros.log');
		const zeroed = Uint8Array.from(bytes);
		zeroed.fill(0, acknowledged);
		writeFileSync(path, zeroed);
		const store = await FileStore.open(path);
		expect(await snapshot(store)).toEqual(before);
		await store.close();
	});

	it('refuses to open when an acknowledged record before the tail is damaged, and leaves the file as it is', async () => {
		const { acknowledged, bytes } = await writeLedgerFile(join(dir, 'full-5.log'));
		const path = join(dir, 'middle.log');
		const damaged = Uint8Array.from(bytes);
		damaged[acknowledged - 3]! ^= 0x80;
		writeFileSync(path, damaged);
		await expect(FileStore.open(path)).rejects.toMatchObject({ code: 'LEDGER_FILE_DAMAGED' });
		expect(statSync(path).size).toBe(bytes.length);
	});

	it('refuses a file that is not a ledger log of this version', async () => {
		const path = join(dir, 'other.log');
		writeFileSync(path, new Uint8Array([0, 0, 0, 5, 0xa1, 0x61, 0x6b, 0x61, 0x62]));
		await expect(FileStore.open(path)).rejects.toMatchObject({ code: 'LEDGER_FILE_FORMAT' });
		expect(readFileSync(path).length).toBe(9);
	});

	it('starts afresh on an empty file or a header the crash cut short', async () => {
		for (const length of [0, 5, LOG_MAGIC.length - 1]) {
			const path = join(dir, `new-${length}.log`);
			writeFileSync(path, LOG_MAGIC.subarray(0, length));
			const store = await FileStore.open(path);
			await store.append([row(1, 0, 0)]);
			await store.close();
			const again = await FileStore.open(path);
			expect(await again.count()).toBe(1);
			await again.close();
		}
	});

	it('never logs a batch it refuses, even when two appends of the same block race', async () => {
		const path = join(dir, 'race.log');
		const store = await FileStore.open(path);
		const results = await Promise.allSettled([store.append([row(1, 0, 0)]), store.append([row(1, 0, 0)]), store.putMeta('x', 1)]);
		expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'fulfilled', 'rejected']);
		await store.close();
		const again = await FileStore.open(path);
		expect(await again.count()).toBe(1);
		expect(await again.getMeta('x')).toBe(1);
		await again.close();
	});
});

describe('IndexedDB store: durability', () => {
	it('commits every write the ledger relies on with strict durability, an append with its meta in one transaction', async () => {
		const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction');
		try {
			const store = await IndexedDBStore.open('durability-check');
			transaction.mockClear();
			const facts = [{ fold: 'f', key: 'k', clock: 0, block: row(1, 0, 0).id, n: 0, value: 1 }];
			await store.append([row(1, 0, 0), row(1, 1, 1)], { authors: ['a1'], membership: [] }, facts);
			expect(transaction).toHaveBeenCalledTimes(1);
			expect([...(transaction.mock.calls[0]![0] as string[])].sort()).toEqual(['facts', 'heads', 'meta', 'segments', 'summaries']);
			await store.putMeta('void', {});
			await store.writeFacts([], facts, { index: 1 });
			await store.clearFacts('f');
			await store.putCheckpoint({ position: [1, row(1, 1, 1).id], count: 2, state: new Uint8Array([1]) });
			await store.dropCheckpointsAfter([0, row(1, 0, 0).id]);
			await store.putEvidence({
				id: 'e1' as BlockId,
				author: row(1, 0, 0).author,
				seq: 0,
				conflictsWith: row(1, 0, 0).id,
				bytes: new Uint8Array([9]),
				seenAt: 1
			});
			const writes = transaction.mock.calls.filter((call) => call[1] === 'readwrite');
			expect(writes.length).toBe(7);
			for (const call of writes) expect(call[2], `transaction on ${String(call[0])}`).toEqual({ durability: 'strict' });
			await store.close();
		} finally {
			transaction.mockRestore();
		}
	});
});

describe('headless peer ledger on the file store: power cut while it stores a revocation batch', () => {
	/** What a ledger shows of membership and blocks: these must agree after any restart. */
	const view = (ledger: Ledger) => ({
		size: ledger.size,
		heads: ledger
			.heads()
			.map((h) => `${h.author.slice(0, 8)}:${h.seq}`)
			.sort(),
		roster: [...ledger.roster()].map(([a, role]) => `${a.slice(0, 8)}=${role}`).sort(),
		revocations: [...ledger.revocations()].map(([a, seq]) => `${a.slice(0, 8)}>${seq}`),
		void: [...ledger.voided().keys()].sort()
	});

	it(
		'reopens to the ledger before the batch or after it, at every byte the batch could be cut',
		async () => {
			const founder = await foundNetwork({ members: { b: 'clinician' } });
			const b = await joinNetwork(founder.net, 'b');
			await syncInto(b, founder);
			await b.append([{ t: 'note', text: 'before the revocation' }]);
			await syncInto(founder, b);
			await founder.append([{ t: 'member.revoke', key: publicKeyOf(testSecret('b')) }]);
			await b.append([{ t: 'note', text: 'concurrent with the revocation: void once it arrives' }]);
			await founder.append([{ t: 'member.add', key: publicKeyOf(testSecret('c')), role: 'clinician' }]);
			const c = await joinNetwork(founder.net, 'c');
			await syncInto(c, founder);
			await c.append([{ t: 'note', text: 'a new author' }]);

			const path = join(dir, 'peer.log');
			const open = async (file: string) =>
				Ledger.open({ store: await FileStore.open(file), net: founder.net, verifier: testVerifier(), now: fixedNow });
			const peer = await open(path);
			const blocksOf = async (from: Ledger, since: Ledger | null) => {
				const out: Uint8Array[] = [];
				for await (const block of from.blocksSince(since ? since.versionVector() : {})) out.push(block);
				return out;
			};
			// b's view first (its void-to-be block included); then, in one batch, the revocation,
			// a new member and that member's first block: new authors, roster and void set at once.
			const first = await blocksOf(b, null);
			expect((await peer.receive(first)).accepted.length).toBe(first.length);
			const batch = await blocksOf(c, b);
			const before = view(peer);
			const acknowledged = statSync(path).size;
			const result = await peer.receive(batch);
			expect(result.rejected).toEqual([]);
			expect(result.accepted.length).toBe(3);
			const after = view(peer);
			expect(after.revocations.length).toBe(1);
			expect(after.void.length).toBe(1);
			expect(after.roster).not.toEqual(before.roster);
			await peer.store.close();
			const bytes = readFileSync(path);

			const cutPath = join(dir, 'peer-cut.log');
			const seen = new Set<string>();
			for (let cut = acknowledged; cut <= bytes.length; cut++) {
				writeFileSync(cutPath, bytes.subarray(0, cut));
				const reopened = await open(cutPath);
				const got = view(reopened);
				await reopened.store.close();
				expect([before, after], `cut at byte ${cut}`).toContainEqual(got);
				seen.add(JSON.stringify(got));
			}
			expect(seen.size).toBe(2);
		},
		PER_BYTE_TIMEOUT
	);
});
