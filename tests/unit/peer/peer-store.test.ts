/** The headless peer's ledger database, and the one-time migration of a ledger file an older peer wrote. */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicKeyOf } from '../../../src/lib/core/crypto/ed25519.js';
import { Ledger } from '../../../src/lib/core/ledger.js';
import { FileStore } from '../../../src/lib/core/storage/file.js';
import type { LedgerStore } from '../../../src/lib/core/storage/store.js';
import { fixedNow, foundNetwork, joinNetwork, syncInto, testSecret, testVerifier } from '../../../src/lib/core/testing/fixtures.js';
import type { BlockId } from '../../../src/lib/core/types.js';
import { backupPath, openPeerStore } from '../../../peer/ledger-store.js';

const dir = mkdtempSync(join(tmpdir(), 'clinic-peer-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let net: BlockId;
/** A ledger file as an older peer left it: members, a revocation with a void block, evidence. */
const original = join(dir, 'original.log');

beforeAll(async () => {
	const founder = await foundNetwork({ members: { b: 'clinician' } });
	net = founder.net;
	const b = await joinNetwork(net, 'b');
	await syncInto(b, founder);
	for (let i = 0; i < 5; i++) await b.append([{ t: 'note', text: `note ${i}` }]);
	await syncInto(founder, b);
	await founder.append([{ t: 'member.revoke', key: publicKeyOf(testSecret('b')) }]);
	await b.append([{ t: 'note', text: 'concurrent with the revocation: void once it arrives' }]);
	await founder.append([{ t: 'member.add', key: publicKeyOf(testSecret('c')), role: 'clinician' }]);
	const peer = await openLedger(await FileStore.open(original));
	await syncInto(peer, b);
	await syncInto(peer, founder);
	expect(peer.voided().size).toBe(1);
	const first = (await peer.store.ordered(null, 1))[0]!;
	await peer.store.putEvidence({
		id: 'e0' as BlockId,
		author: first.author,
		seq: 0,
		conflictsWith: first.id,
		bytes: new Uint8Array([1]),
		seenAt: 3
	});
	await peer.store.close();
});

const openLedger = (store: LedgerStore) => Ledger.open({ store, net, verifier: testVerifier(), now: fixedNow });

/** What a ledger shows: must be the same on the file and on the database it was migrated to. */
const view = (ledger: Ledger) => ({
	size: ledger.size,
	heads: ledger
		.heads()
		.map((h) => `${h.author}:${h.seq}:${h.id}`)
		.sort(),
	roster: [...ledger.roster()].sort(),
	void: [...ledger.voided().keys()].sort(),
	voidReasons: [...ledger.voided().values()].sort()
});

async function contents(store: LedgerStore, metaKeys: string[]) {
	return {
		count: await store.count(),
		ordered: (await store.ordered(null, 10_000)).map((b) => [
			b.id,
			b.author,
			b.seq,
			b.clock,
			[...b.vv],
			Buffer.from(b.bytes).toString('hex')
		]),
		heads: (await store.heads()).sort((x, y) => (x.author < y.author ? -1 : 1)),
		meta: await Promise.all(metaKeys.map(async (k) => [k, await store.getMeta(k)])),
		evidence: await store.evidence(),
		checkpoint: await store.checkpointAtOrBefore(null)
	};
}

function copyOriginal(name: string): string {
	const path = join(dir, name);
	cpSync(original, path);
	return path;
}

describe('peer ledger: migration of a ledger file', () => {
	it('copies blocks, heads, meta, evidence and checkpoint into a database at the same path, and keeps the file as a backup', async () => {
		const file = await FileStore.open(original);
		const metaKeys = file.metaKeys();
		expect(metaKeys).toEqual(expect.arrayContaining(['net', 'authors', 'membership', 'void']));
		const want = await contents(file, metaKeys);
		const wantView = view(await openLedger(file));
		await file.close(); // opening the ledger may have written to the file: copy it afterwards
		const path = copyOriginal('peer.log');
		const lines: string[] = [];
		const store = await openPeerStore(path, (line) => lines.push(line));
		expect(lines).toEqual([
			expect.stringMatching(/migrated the ledger file to a database \(\d+ blocks, \d+ ms\); the file is kept as .*peer\.log\.file-backup/)
		]);
		expect(statSync(path).isDirectory()).toBe(true);
		expect(readFileSync(backupPath(path))).toEqual(readFileSync(original));
		expect(existsSync(`${path}.migrating`)).toBe(false);
		expect(await contents(store, metaKeys)).toEqual(want);
		expect(view(await openLedger(store))).toEqual(wantView);
		await store.close();

		// Once only: the next start opens the database.
		const again = await openPeerStore(path, (line) => lines.push(line));
		expect(lines.length).toBe(1);
		expect(await again.count()).toBe(want.count);
		await again.close();
	});

	it('finishes a migration a crash interrupted between its two renames', async () => {
		const path = copyOriginal('between.log');
		await (await openPeerStore(path)).close();
		renameSync(path, `${path}.migrating`); // the copy, complete; the file already renamed to the backup
		const lines: string[] = [];
		const store = await openPeerStore(path, (line) => lines.push(line));
		expect(lines).toEqual([expect.stringMatching(/finished the migration/)]);
		expect(view(await openLedger(store)).size).toBeGreaterThan(5);
		await store.close();
		expect(existsSync(`${path}.migrating`)).toBe(false);
	});

	it('starts the copy again when a crash cut the first one short', async () => {
		const path = copyOriginal('cut.log');
		mkdirSync(`${path}.migrating`);
		writeFileSync(join(`${path}.migrating`, 'CURRENT'), 'MANIFEST-000009\n'); // what a crash can leave
		const store = await openPeerStore(path);
		const file = await FileStore.open(backupPath(path));
		expect(await store.count()).toBe(await file.count());
		await Promise.all([store.close(), file.close()]);
	});

	it('refuses a file it cannot read, and leaves it as it is', async () => {
		const path = join(dir, 'other.log');
		writeFileSync(path, new Uint8Array([0, 0, 0, 5, 0xa1, 0x61, 0x6b, 0x61, 0x62]));
		await expect(openPeerStore(path)).rejects.toMatchObject({ code: 'LEDGER_FILE_FORMAT' });
		expect(readFileSync(path)).toEqual(Buffer.from([0, 0, 0, 5, 0xa1, 0x61, 0x6b, 0x61, 0x62]));
		expect(existsSync(backupPath(path)) || existsSync(`${path}.migrating`)).toBe(false);
	});

	it('refuses to overwrite a backup already there', async () => {
		const path = copyOriginal('backed-up.log');
		writeFileSync(backupPath(path), 'an earlier backup');
		await expect(openPeerStore(path)).rejects.toMatchObject({ code: 'LEDGER_BACKUP_EXISTS' });
		expect(statSync(path).isFile()).toBe(true);
	});

	it('creates a new database, readable by its owner only', async () => {
		const path = join(dir, 'fresh', 'new.log');
		const store = await openPeerStore(path);
		expect(await store.count()).toBe(0);
		await store.close();
		expect(statSync(path).mode & 0o777).toBe(0o700);
	});
});
