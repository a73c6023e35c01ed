/**
 * Frame fuzzer against a real SyncSession: an authenticated member sends generated and
 * mutated frames (bit flips, truncations, thousands of tiny items, huge declared lengths,
 * deep nesting, huge vectors, part and hello floods, closes in the middle of a batch).
 * Whatever it sends, no handler throws, every session ends, timers still fire after each
 * close (no microtask livelock) and the heap stays bounded. Seeded: FUZZ_SEED=n replays.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import {
	Ledger as LedgerClass,
	MemoryStore,
	Replicator,
	decodeMessage,
	encodeMessage,
	memoryLinkPair,
	toHex,
	type AuthorId,
	type BlockId,
	type Ledger,
	type Link,
	type Message,
	type SyncSession
} from '../../../../src/lib/core/index.js';
import { createNodeVerifier } from '../../../../src/lib/core/crypto/node-verifier.js';
import { publicKeyOf } from '../../../../src/lib/core/crypto/ed25519.js';
import { createWebCryptoSigner } from '../../../../src/lib/core/crypto/verifier.js';
import { PROTOCOL_VERSION } from '../../../../src/lib/core/sync/messages.js';
import { fixedNow, syncInto, testSecret } from '../../../../src/lib/core/testing/fixtures.js';
import { prng } from '../../../../src/lib/core/testing/prng.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const SEED = Number(process.env.FUZZ_SEED ?? 20_251_202);
const FRAMES = 10_000;
const timerFires = () => new Promise<void>((r) => setTimeout(r, 0));
const turn = () => new Promise<void>((r) => setImmediate(r));

type Random = () => number;
const int = (random: Random, n: number) => Math.floor(random() * n);
function bytes(random: Random, n: number): Uint8Array {
	const out = new Uint8Array(n);
	for (let i = 0; i < n; i += 4) {
		const word = int(random, 2 ** 32);
		for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = word >>> (8 * j);
	}
	return out;
}
const pick = <T>(random: Random, list: readonly T[]) => list[int(random, list.length)]!;

/** CBOR header of major type `major` declaring `length` with an 8-byte argument. */
function hugeHeader(major: number, length: bigint): Uint8Array {
	const out = new Uint8Array(9);
	out[0] = (major << 5) | 27;
	new DataView(out.buffer).setBigUint64(1, length);
	return out;
}

function mutate(random: Random, frame: Uint8Array): Uint8Array {
	const copy = frame.slice();
	switch (int(random, 4)) {
		case 0: // bit flips
			for (let i = 0, n = 1 + int(random, 4); i < n; i++) copy[int(random, copy.length)]! ^= 1 << int(random, 8);
			return copy;
		case 1: // truncation
			return copy.subarray(0, int(random, copy.length));
		case 2: // random tail
			return Uint8Array.from([...copy, ...bytes(random, 1 + int(random, 40))]);
		default: // one byte replaced by a CBOR header byte
			copy[int(random, copy.length)] = pick(random, [0x1b, 0x5b, 0x7b, 0x9b, 0xbb, 0x9f, 0xbf, 0xff, 0xf7, 0xc0]);
			return copy;
	}
}

interface World {
	net: BlockId;
	member: Ledger;
	blocks: Uint8Array[];
	corpus: Uint8Array[];
	/** Corpus frames sent as they are: all but `bye` and the founder's own hello, which end a session at once. */
	replayable: Uint8Array[];
}

/** One generated frame. */
function generate(random: Random, world: World): Uint8Array {
	const id = () => toHex(bytes(random, 32)) as BlockId;
	switch (int(random, 16)) {
		case 0:
		case 1:
		case 2:
			return mutate(random, pick(random, world.corpus));
		case 3: // thousands of tiny items (over the per-frame limit or just under it)
			return encodeMessage({
				m: 'blocks',
				items: Array.from({ length: pick(random, [900, 1024, 1025, 3000]) }, () => bytes(random, int(random, 3)))
			});
		case 4: // blocks with a flipped bit, truncated, or intact copies (duplicates)
			return encodeMessage({
				m: 'blocks',
				items: Array.from({ length: 1 + int(random, 8) }, () =>
					random() < 0.5 ? mutate(random, pick(random, world.blocks)) : pick(random, world.blocks)
				)
			});
		case 5: // huge declared lengths
			return Uint8Array.from([
				...hugeHeader(pick(random, [2, 3, 4, 5]), pick(random, [2n ** 32n, 2n ** 53n, 2n ** 64n - 1n])),
				...bytes(random, int(random, 16))
			]);
		case 6: // deep nesting
			return new Uint8Array(1 + int(random, 20_000)).fill(pick(random, [0x81, 0xa1, 0x9f]));
		case 7: // vectors of fake authors, now and then as large as a frame holds
			return encodeMessage({
				m: 'vv',
				vv: Object.fromEntries(Array.from({ length: 1 + int(random, random() < 0.2 ? 1400 : 40) }, () => [id(), int(random, 2 ** 40)]))
			});
		case 8: // part floods
			return encodeMessage({
				m: 'part',
				id: random() < 0.5 ? id() : ('ab'.repeat(32) as BlockId),
				index: int(random, 97),
				total: 97,
				data: new Uint8Array(int(random, 60_000)).fill(int(random, 256))
			});
		case 9: // hello floods, same or other author and nonce (now and then another version, which ends the session)
			return encodeMessage({
				m: 'hello',
				v: random() < 0.05 ? pick(random, [1, 99]) : PROTOCOL_VERSION,
				net: world.net,
				author: random() < 0.5 ? world.member.author! : (id() as unknown as AuthorId),
				nonce: bytes(random, 32)
			});
		case 10:
			return encodeMessage({ m: 'want', ids: Array.from({ length: int(random, 257) }, id) });
		case 11:
			return encodeMessage(
				pick<Message>(random, [
					{ m: 'ack', n: int(random, 2 ** 50) },
					{ m: 'offer', count: int(random, 2 ** 50) },
					{ m: 'end' },
					{ m: 'auth', sig: bytes(random, 64) }
				])
			);
		case 12:
			return encodeMessage(
				pick<Message>(random, [
					{ m: 'join', data: bytes(random, int(random, 16_384)) },
					{ m: 'join-reply', data: bytes(random, 100) },
					{ m: 'denied', reason: 'NOT_A_MEMBER' }
				])
			);
		case 13: // random bytes
			return bytes(random, int(random, 200));
		default:
			return pick(random, world.replayable);
	}
}

/** A session on the founder with the fuzzer authenticated as a member on the other end. */
async function connect(founder: Ledger, replicator: Replicator, world: World, label: string): Promise<{ session: SyncSession; raw: Link }> {
	const [mine, raw] = memoryLinkPair();
	const nonce = crypto.getRandomValues(new Uint8Array(32));
	let authSent = false;
	raw.onFrame = (frame) => {
		let msg: Message;
		try {
			msg = decodeMessage(frame);
		} catch {
			return;
		}
		if (msg.m !== 'hello' || authSent || !raw.open) return;
		authSent = true;
		const transcript = {
			net: world.net,
			parties: [
				{ author: msg.author, nonce: msg.nonce },
				{ author: world.member.author!, nonce }
			] as const,
			...(raw.channelBinding ? { binding: raw.channelBinding } : {})
		};
		void world.member.signChallenge(transcript).then((sig) => raw.open && raw.send(encodeMessage({ m: 'auth', sig })));
	};
	const session = replicator.attach(mine, label);
	raw.send(encodeMessage({ m: 'hello', v: PROTOCOL_VERSION, net: world.net, author: world.member.author!, nonce }));
	// Signatures are made and checked on WebCrypto's threads: wait for the handshake itself (a busy machine takes longer), not a number of turns.
	const deadline = Date.now() + 60_000;
	while (session.state === 'handshake' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
	expect(session.state).toBe('ready');
	expect(founder.net).toBe(world.net);
	return { session, raw };
}

it(`${FRAMES} fuzzed frames: no exception, no hang, bounded heap (seed ${SEED})`, { timeout: 120_000 }, async () => {
	// WebCrypto signers: hundreds of handshakes, each signed on both sides.
	const verifier = await createNodeVerifier();
	const signer = (label: string) => createWebCryptoSigner(crypto.subtle, testSecret(label));
	const founder = await LedgerClass.create({
		store: new MemoryStore(),
		verifier,
		now: fixedNow,
		signer: await signer('founder'),
		genesis: { name: 'Fuzz Clinic', members: [{ key: publicKeyOf(testSecret('b')), role: 'clinician' }] }
	});
	for (let i = 0; i < 30; i++) await founder.append([{ t: 'note', text: `note ${i}` }]);
	const join = async () =>
		LedgerClass.open({ store: new MemoryStore(), verifier, now: fixedNow, signer: await signer('b'), net: founder.net });
	const member = await join();
	await syncInto(member, founder);
	const blocks: Uint8Array[] = [];
	for await (const b of founder.blocksSince({})) blocks.push(b);

	// Valid frames of an honest exchange, the seeds of mutation.
	const corpus: Uint8Array[] = [];
	{
		const fresh = await join();
		const r1 = new Replicator(founder, { tickMs: 0 });
		const r2 = new Replicator(fresh, { tickMs: 0 });
		const [l1, l2] = memoryLinkPair();
		const s1 = r1.attach(l1, 'x');
		const s2 = r2.attach(l2, 'y');
		const tapFrames = (session: SyncSession, link: Link) => {
			const send = link.send.bind(link);
			link.send = (frame) => {
				corpus.push(frame.slice());
				send(frame);
			};
			return session;
		};
		tapFrames(s1, l1);
		tapFrames(s2, l2);
		const deadline = Date.now() + 60_000;
		while (fresh.size < founder.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
		r1.close();
		r2.close();
	}
	expect(corpus.length).toBeGreaterThan(5);
	const replayable = corpus.filter((f) => {
		const m = decodeMessage(f);
		return m.m !== 'bye' && !(m.m === 'hello' && m.author === founder.author);
	});
	const world: World = { net: founder.net, member, blocks, corpus, replayable };

	const random = prng(SEED);
	const replicator = new Replicator(founder, { tickMs: 0 });
	const failures: string[] = [];
	const closes = new Map<string, number>();
	gc();
	const heapBefore = process.memoryUsage().heapUsed;
	let handled = 0;
	let episode = 0;
	while (handled < FRAMES) {
		const { session, raw } = await connect(founder, replicator, world, `fuzz${episode++}`);
		session.on((e) => {
			if (e.type === 'log' && e.message.startsWith('error handling')) failures.push(e.message);
			if (e.type === 'closed')
				closes.set(e.reason.replace(/\d+/g, 'N').slice(0, 60), (closes.get(e.reason.replace(/\d+/g, 'N').slice(0, 60)) ?? 0) + 1);
		});
		const start = session.stats.framesIn;
		// Some episodes end abruptly in the middle of a batch of junk.
		const cutAt = random() < 0.2 ? int(random, 60) : Infinity;
		for (let i = 0; i < 400 && session.state !== 'closed' && raw.open; i++) {
			if (i === cutAt) {
				raw.send(encodeMessage({ m: 'blocks', items: Array.from({ length: 1000 }, () => bytes(random, 1 + int(random, 3))) }));
				if (random() < 0.5) raw.close();
				else session.close('fuzz: closing mid-batch');
				break;
			}
			raw.send(generate(random, world));
			if (i % 8 === 0) await turn();
		}
		for (let i = 0; i < 5; i++) await turn();
		handled += session.stats.framesIn - start;
		if (session.state !== 'closed') session.close('fuzz: episode over');
		// A microtask livelock would starve this timer for ever.
		await timerFires();
		expect(session.state).toBe('closed');
	}
	replicator.close();
	await timerFires();
	expect(failures).toEqual([]);
	expect(handled).toBeGreaterThanOrEqual(FRAMES);
	// Bounded: one session's worth of buffers at a time, not the sum of every episode.
	// Measured after a collection: what is held, not garbage a bigger heap left uncollected.
	gc();
	expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 1024 * 1024);
	expect(founder.size).toBe(member.size);
	console.info(`fuzz seed ${SEED}: ${handled} frames over ${episode} sessions; closes: ${JSON.stringify(Object.fromEntries(closes))}`);
});
