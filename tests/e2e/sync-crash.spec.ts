// A crash in the middle of a catch-up loses nothing acknowledged (issue 19). Clinic A
// holds 20,000 blocks (the seeded store); B joins and catches up from A over WebRTC. B's
// page records, on its ledger data channel, the blocks it receives and the `ack n` it
// sends back (the receiver acknowledges a batch only once it is validated and durably
// stored). The ack that reaches a quarter of them reports what B acknowledged, B's page
// stops right there, and its browser is killed (SIGKILL to every process at once, no
// close): the worst moment for a node that would acknowledge before its write commits.
// Relaunched on the same profile with its signaling refused, B opens a ledger holding
// every acknowledged block, an unbroken chain from seq 0 per author that "Verify all"
// passes; back online, it finishes the catch-up and holds the same ledger as A.
import { expect, type Page } from '@playwright/test';
import { loadSeededLedger, seededLedger } from './fixtures/seeded-ledger.js';
import {
	addMember,
	joinByLink,
	keyBeforeJoining,
	killNode,
	ownKey,
	peerRow,
	shareLink,
	showTab,
	storedLedger,
	storedRows,
	test,
	uiFingerprint,
	waitForSize
} from './nodes.js';

test.describe.configure({ mode: 'serial' });

/** A's ledger: genesis and 7,999 entries, then B's admission (20,000 until the suite had to fit its 10 minutes: the property does not depend on the size). */
const BLOCKS = 8_000;
/** B is killed once it has acknowledged this many blocks. */
const KILL_AT = BLOCKS / 4;

/** What one ledger data channel carried, recorded in the page of the node. */
interface ChannelRecord {
	/** The blocks received in `blocks` frames, in order, as on the wire. */
	received: Uint8Array[];
	/** The highest `ack n` sent: the first n blocks received were processed and stored. */
	acked: number;
}

/** What B had claimed when it sent the ack that crossed the kill threshold. */
interface Claimed {
	/** Blocks acknowledged, over all ledger channels. */
	acked: number;
	/** Their ids (null: an item that is not a block's wire form). */
	ids: (string | null)[];
	/** Per author, the highest seq among them: the version vector B acknowledged. */
	vector: Record<string, number>;
	/** The ledger size B's screen showed. */
	shown: number;
}

/**
 * Installed in B's page: wraps RTCPeerConnection.createDataChannel and RTCDataChannel.send
 * to record, per ledger channel, the blocks received and the acks sent. Frames are plain
 * canonical CBOR maps (src/lib/core/sync/messages.ts; blocks as in docs/block-format.md);
 * the decoder here is its own. When the acks sent reach `crashAt`, the page reports what
 * it acknowledged through the `crashPoint` binding, then holds its main thread (the ack is
 * out; nothing else it would do, such as committing a write, happens) until it is killed.
 */
function recordLedgerChannels(crashAt: number): void {
	const w = window as unknown as { __ledgerChannels?: ChannelRecord[]; crashPoint?: (claimed: Claimed) => void };
	if (w.__ledgerChannels) return;
	const records: ChannelRecord[] = [];
	w.__ledgerChannels = records;
	const LABEL = 'clinic-ledger/sync/v1';
	const byChannel = new WeakMap<RTCDataChannel, ChannelRecord>();
	const recordOf = (channel: RTCDataChannel) => {
		let record = byChannel.get(channel);
		if (!record) {
			record = { received: [], acked: 0 };
			byChannel.set(channel, record);
			records.push(record);
		}
		return record;
	};
	const decode = (bytes: Uint8Array): unknown => {
		let at = 0;
		const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
		const item = (): unknown => {
			const head = bytes[at++]!;
			const major = head >> 5;
			const info = head & 31;
			if (info > 27) throw new Error('indefinite length');
			const size = info < 24 ? 0 : 1 << (info - 24);
			const arg =
				size === 0
					? info
					: size === 1
						? view.getUint8(at)
						: size === 2
							? view.getUint16(at)
							: size === 4
								? view.getUint32(at)
								: Number(view.getBigUint64(at));
			at += size;
			switch (major) {
				case 0:
					return arg;
				case 1:
					return -1 - arg;
				case 2:
					return bytes.subarray(at, (at += arg));
				case 3:
					return new TextDecoder().decode(bytes.subarray(at, (at += arg)));
				case 4:
					return Array.from({ length: arg }, item);
				case 5: {
					const map: Record<string, unknown> = {};
					for (let i = 0; i < arg; i++) map[String(item())] = item();
					return map;
				}
				case 7:
					return arg === 20 ? false : arg === 21 ? true : null;
				default:
					throw new Error(`major type ${major}`);
			}
		};
		return item();
	};
	const frame = (data: unknown): { m?: unknown; n?: unknown; items?: unknown } | null => {
		try {
			if (data instanceof ArrayBuffer) return decode(new Uint8Array(data)) as { m?: unknown };
			if (ArrayBuffer.isView(data)) return decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) as { m?: unknown };
		} catch {
			// Not a frame this decoder reads: the app judges it.
		}
		return null;
	};
	const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
	/** A block's wire form: [id, body, signature], the body a map holding `author` and `seq`. */
	const parseBlock = (block: Uint8Array): { id: string; author: string; seq: number } | null => {
		try {
			const [id, body] = decode(block) as [Uint8Array, Uint8Array];
			const { author, seq } = decode(body) as { author: Uint8Array; seq: number };
			return { id: hex(id), author: hex(author), seq };
		} catch {
			return null;
		}
	};
	const claimed = (): Claimed => {
		const blocks = records.flatMap((c) => c.received.slice(0, c.acked));
		const ids: (string | null)[] = [];
		const vector: Record<string, number> = {};
		for (const block of blocks) {
			const parsed = parseBlock(block);
			ids.push(parsed?.id ?? null);
			if (parsed) vector[parsed.author] = Math.max(vector[parsed.author] ?? -1, parsed.seq);
		}
		const shown = Number(document.querySelector('[data-testid="ledger-size"]')?.getAttribute('data-size') ?? -1);
		return { acked: records.reduce((sum, c) => sum + c.acked, 0), ids, vector, shown };
	};
	let crashed = false;

	const create = RTCPeerConnection.prototype.createDataChannel;
	RTCPeerConnection.prototype.createDataChannel = function (this: RTCPeerConnection, label: string, init?: RTCDataChannelInit) {
		const channel = create.call(this, label, init);
		if (label === LABEL) {
			const record = recordOf(channel);
			channel.addEventListener('message', (event: MessageEvent) => {
				const message = frame(event.data);
				if (message?.m === 'blocks' && Array.isArray(message.items)) record.received.push(...(message.items as Uint8Array[]));
			});
		}
		return channel;
	};
	const send = RTCDataChannel.prototype.send as (this: RTCDataChannel, data: unknown) => void;
	RTCDataChannel.prototype.send = function (this: RTCDataChannel, data: unknown) {
		send.call(this, data);
		if (this.label !== LABEL) return;
		const message = frame(data);
		if (message?.m !== 'ack' || typeof message.n !== 'number') return;
		const record = recordOf(this);
		record.acked = Math.max(record.acked, message.n);
		if (crashed || records.reduce((sum, c) => sum + c.acked, 0) < crashAt || !w.crashPoint) return;
		crashed = true;
		w.crashPoint(claimed());
		// Held here, inside the task that sent the ack, until the browser is killed (bounded, in case it never is).
		const until = Date.now() + 5 * 60_000;
		while (Date.now() < until);
	} as RTCDataChannel['send'];
}

/** Every stored block's id and per author its stored seqs (ascending), and the heads, read from IndexedDB behind the app. */
async function storedChains(page: Page): Promise<{ ids: Set<string>; seqs: Record<string, number[]>; heads: Record<string, number> }> {
	const { rows, heads } = await storedRows(page);
	const seqs: Record<string, number[]> = {};
	for (const { author, seq } of rows) (seqs[author] ??= []).push(seq);
	for (const list of Object.values(seqs)) list.sort((x, y) => x - y);
	return { ids: new Set(rows.map((r) => r.id)), seqs, heads: Object.fromEntries(heads.map((h) => [h.author, h.seq])) };
}

test('a browser killed in the middle of a catch-up reopens with every acknowledged block, verifies, and finishes the catch-up', async ({
	nodes
}) => {
	test.setTimeout(10 * 60_000);
	const started = Date.now();
	const seed = await seededLedger(BLOCKS, 'Harbour Clinic');
	const a = await nodes.launch('CA', { beforeOpen: (page) => loadSeededLedger(page, seed) });
	let b = await nodes.launch('CB');
	// Opening folds from the checkpoint and reads the newest blocks: seconds, minutes with every core busy.
	await expect(a.page.getByTestId('app')).toHaveAttribute('data-status', 'ready', { timeout: 300_000 });
	await waitForSize(a.page, BLOCKS, 300_000);
	const keyA = await ownKey(a.page);
	const keyB = await keyBeforeJoining(b.page);
	await addMember(a.page, keyB, 'clinician', 'Hillside Clinic');
	const total = BLOCKS + 1;
	await waitForSize(a.page, total);

	// B records its ledger channels from now on, in this document and in any it loads next;
	// the ack that crosses KILL_AT reports what B claimed, and B is killed at once.
	let claimed: Claimed | null = null;
	await b.context.exposeBinding('crashPoint', (_source, value: Claimed) => {
		claimed = value;
	});
	await b.context.addInitScript(recordLedgerChannels, KILL_AT);
	await b.page.evaluate(recordLedgerChannels, KILL_AT);
	await joinByLink(b.page, await shareLink(a.page), 'Harbour Clinic');
	await expect.poll(() => claimed !== null, { message: `B acknowledges ${KILL_AT} blocks`, timeout: 300_000, intervals: [50] }).toBe(true);
	await killNode(b);
	const acknowledged = claimed! as Claimed;
	expect(acknowledged.acked).toBeGreaterThanOrEqual(KILL_AT);
	expect(acknowledged.ids.length).toBe(acknowledged.acked);
	expect(acknowledged.ids.every((id) => id !== null)).toBe(true);
	expect(Object.keys(acknowledged.vector)).toEqual([keyA]);
	console.log(
		`B killed right after acknowledging ${acknowledged.acked} of ${total} blocks (A's seqs up to ${acknowledged.vector[keyA]}; ${acknowledged.shown} shown), ${((Date.now() - started) / 1000).toFixed(1)} s into the test`
	);

	// B comes back on its profile, its signaling refused: what it holds is what survived the kill.
	b = await nodes.relaunch(b, { signalingBlocked: true });
	await expect(b.page.getByTestId('app')).toHaveAttribute('data-status', 'ready');
	await expect(b.page.getByTestId('network-name')).toHaveText('Harbour Clinic');
	const stored = await storedChains(b.page);
	const held = stored.ids.size;

	// (1) Every acknowledged block is there; nothing B stored or showed before the kill went missing.
	const lost = acknowledged.ids.filter((id) => !stored.ids.has(id!));
	expect(lost.length, `acknowledged blocks lost after the kill (of ${acknowledged.acked}), e.g. ${lost.slice(0, 3).join(', ')}`).toBe(0);
	expect(held).toBeGreaterThanOrEqual(acknowledged.acked);
	expect(held).toBeGreaterThanOrEqual(acknowledged.shown);
	for (const [author, seq] of Object.entries(acknowledged.vector))
		expect(stored.heads[author] ?? -1, `head of ${author} after the kill`).toBeGreaterThanOrEqual(seq);
	// The kill did land in the middle of the catch-up.
	expect(held).toBeLessThan(total);

	// (2) A valid prefix: per author, seqs 0..head each once, the head record agreeing; the app
	// opened all of it, and its verification (on open, then "Verify all") finds no failure.
	expect(Object.keys(stored.seqs)).toEqual([keyA]);
	for (const [author, seqs] of Object.entries(stored.seqs)) {
		const gaps = seqs.filter((seq, i) => seq !== i);
		expect(gaps, `stored seqs of ${author} not 0..${seqs.length - 1}`).toEqual([]);
		expect(stored.heads[author]).toBe(seqs.length - 1);
	}
	await waitForSize(b.page, held);
	await showTab(b.page, 'ledger');
	const result = b.page.getByTestId('verify-result');
	const plural = `${held.toLocaleString('en')} blocks`;
	await expect(result).toHaveAttribute('data-outcome', 'ok', { timeout: 300_000 });
	await expect(result).toContainText(`All ${plural} verified`);
	await b.page.getByTestId('verify-all').click();
	await expect(result).toContainText('checked at', { timeout: 300_000 });
	await expect(result).toHaveAttribute('data-outcome', 'ok');
	await expect(result).toContainText(`All ${plural} verified`);
	await expect(b.page.getByTestId('verify-failure')).toHaveCount(0);

	// (3) Back online, B finishes the catch-up from A: the same blocks, order, heads and state.
	b.signalingBlocked = false;
	await waitForSize(b.page, total, 300_000);
	await expect.poll(async () => (await storedLedger(b.page)).count, { message: 'B stores every block', timeout: 60_000 }).toBe(total);
	const [storedA, storedB] = [await storedLedger(a.page), await storedLedger(b.page)];
	expect(storedB.heads).toEqual(storedA.heads);
	expect(storedB.orderDigest).toBe(storedA.orderDigest);
	expect(storedB.heads[keyA]!.seq).toBe(BLOCKS);
	const [printA, printB] = [await uiFingerprint(a.page), await uiFingerprint(b.page)];
	expect(printB).toEqual(printA);
	await showTab(b.page, 'network');
	await expect(peerRow(b.page, keyA)).toHaveAttribute('data-we-lack', '0', { timeout: 60_000 });
	await expect(b.page.getByTestId('app')).toHaveAttribute('data-role', 'clinician');
	console.log(`sync-crash: ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
});
