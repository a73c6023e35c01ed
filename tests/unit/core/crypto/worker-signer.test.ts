// The worker signer's chunking, answers and failure handling with stand-in ports that sign
// with noble (tests/browser/worker-signer.test.ts runs it over a real Web Worker in
// Chromium), and appendBatch with a signer whose signatures come late and out of order.
import { describe, expect, it } from 'vitest';
import {
	CodedError,
	Ledger,
	MemoryStore,
	createPortSigner,
	nobleSigner,
	nobleVerifier,
	type Signer,
	type SignPort
} from '../../../../src/lib/core/index.js';
import { fixedNow, foundNetwork, joinNetwork, syncInto, testSecret } from '../../../../src/lib/core/testing/fixtures.js';

interface Request {
	id: number;
	messages: Uint8Array;
	size: number;
	count: number;
}

const reference = nobleSigner(testSecret('signer'));

/**
 * A port that signs like the worker (one buffer of `count` messages of `size` bytes), its
 * answers held until `release` and sent in the order `order` gives. `mode` 'refuses' answers
 * every request with an error, 'crashes' fires onerror after its first request.
 */
function port(mode: 'ok' | 'refuses' | 'crashes' = 'ok') {
	const requests: Request[] = [];
	const held: (() => void)[] = [];
	let terminated = false;
	const p: SignPort & { requests: Request[]; terminated: () => boolean; release(order?: (n: number) => number[]): void } = {
		onmessage: null,
		onerror: null,
		requests,
		terminated: () => terminated,
		postMessage(message: unknown, transfer: Transferable[]) {
			const request = message as Request;
			expect(transfer).toEqual([request.messages.buffer]);
			requests.push({ ...request, messages: request.messages.slice() });
			if (mode === 'crashes') {
				setTimeout(() => p.onerror?.(new Event('error') as ErrorEvent), 1);
				return;
			}
			const { id, messages, size, count } = request;
			held.push(() => {
				if (mode === 'refuses') {
					p.onmessage?.({ data: { id, error: 'no Ed25519 here' } } as MessageEvent);
					return;
				}
				const signatures = new Uint8Array(count * 64);
				for (let i = 0; i < count; i++) signatures.set(signNow(messages.slice(i * size, (i + 1) * size)), i * 64);
				p.onmessage?.({ data: { id, signatures } } as MessageEvent);
			});
		},
		terminate() {
			terminated = true;
		},
		release(order = (n) => [...Array(n).keys()]) {
			const answers = held.splice(0);
			for (const i of order(answers.length)) answers[i]!();
		}
	};
	return p;
}

const signatures = new Map<string, Uint8Array>();
function signNow(message: Uint8Array): Uint8Array {
	const key = message.join(',');
	const known = signatures.get(key);
	if (!known) throw new Error('test: a message the reference did not sign first');
	return known;
}
async function remember(messages: Uint8Array[]) {
	for (const m of messages) signatures.set(m.join(','), await reference.sign(m));
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

function messages(n: number, sizes: readonly number[]): Uint8Array[] {
	return Array.from({ length: n }, (_, i) => crypto.getRandomValues(new Uint8Array(sizes[i % sizes.length]!)));
}

describe('createPortSigner', () => {
	it('signs exactly as the reference, in chunks of at most 32 of one size, whatever order the answers come in', async () => {
		const input = messages(150, [32, 32, 32, 0, 1, 100]);
		await remember(input);
		const p = port();
		const signer = createPortSigner(p, reference);
		const pending = input.map((m) => signer.sign(m));
		await tick();
		expect(p.requests.length).toBeGreaterThan(4);
		for (const r of p.requests) {
			expect(r.count).toBeGreaterThan(0);
			expect(r.count).toBeLessThanOrEqual(32);
			expect(r.messages.length).toBe(r.count * r.size);
		}
		expect(p.requests.reduce((sum, r) => sum + r.count, 0)).toBe(input.length);
		p.release((n) => [...Array(n).keys()].reverse());
		const ours = await Promise.all(pending);
		expect(ours).toEqual(await Promise.all(input.map((m) => reference.sign(m))));
		expect(signer.failed).toBe(false);
		expect(signer.publicKey).toEqual(reference.publicKey);
	});

	it('signs what the caller passed, even if the caller changes its buffer right after', async () => {
		const message = new Uint8Array(32).fill(7);
		const copy = message.slice();
		await remember([copy]);
		const p = port();
		const signer = createPortSigner(p, reference);
		const pending = signer.sign(message);
		message.fill(9);
		await tick();
		p.release();
		expect(await pending).toEqual(await reference.sign(copy));
	});

	it('a worker answering with an error: its messages and every later one are signed on the page, nothing lost', async () => {
		const input = messages(40, [32]);
		await remember(input);
		const p = port('refuses');
		const signer = createPortSigner(p, reference);
		const first = input.slice(0, 35).map((m) => signer.sign(m));
		await tick();
		p.release();
		expect(await Promise.all(first)).toEqual(await Promise.all(input.slice(0, 35).map((m) => reference.sign(m))));
		expect(signer.failed).toBe(true);
		expect(p.terminated()).toBe(true);
		const before = p.requests.length;
		expect(await Promise.all(input.slice(35).map((m) => signer.sign(m)))).toEqual(
			await Promise.all(input.slice(35).map((m) => reference.sign(m)))
		);
		expect(p.requests.length).toBe(before);
	});

	it('a worker that crashes: the messages it held are signed on the page', async () => {
		const input = messages(10, [32]);
		await remember(input);
		const p = port('crashes');
		const signer = createPortSigner(p, reference);
		expect(await Promise.all(input.map((m) => signer.sign(m)))).toEqual(await Promise.all(input.map((m) => reference.sign(m))));
		expect(signer.failed).toBe(true);
	});

	it('close: waiting calls and later ones are refused with SIGNER_CLOSED, never answered with a wrong signature', async () => {
		const p = port();
		const signer = createPortSigner(p, reference);
		const waiting = signer.sign(new Uint8Array(32));
		signer.close();
		await expect(waiting).rejects.toMatchObject({ code: 'SIGNER_CLOSED' });
		await expect(signer.sign(new Uint8Array(32))).rejects.toBeInstanceOf(CodedError);
		expect(p.terminated()).toBe(true);
	});
});

/** `inner`'s signatures, each answered only once `batch` have been asked, in reverse order; the `failAt`-th (1-based) rejects. */
function lateSigner(inner: Signer, batch: number, failAt = 0): Signer {
	let asked: { message: Uint8Array; resolve: (s: Uint8Array) => void; reject: (e: Error) => void }[] = [];
	let count = 0;
	const answer = () => {
		const now = asked.reverse();
		asked = [];
		for (const a of now) inner.sign(a.message).then(a.resolve, a.reject);
	};
	return {
		publicKey: inner.publicKey,
		sign(message) {
			count++;
			const n = count;
			return new Promise((resolve, reject) => {
				if (n === failAt) {
					setTimeout(() => reject(new Error('signer failed')), 2);
					return;
				}
				asked.push({ message, resolve, reject });
				if (asked.length >= batch) answer();
				else setTimeout(answer, 3);
			});
		}
	};
}

describe('appendBatch with signatures made elsewhere', () => {
	it('blocks signed late and out of order are the same bytes, and every other node accepts them', async () => {
		const founder = await foundNetwork({ members: { b: 'clinician' } });
		const open = (signer: Signer) =>
			Ledger.open({ store: new MemoryStore(), verifier: nobleVerifier, now: fixedNow, signer, net: founder.net });
		const late = await open(lateSigner(nobleSigner(testSecret('b')), 7));
		const plain = await open(nobleSigner(testSecret('b')));
		for (const node of [late, plain]) await syncInto(node, founder);
		const batches = Array.from({ length: 60 }, (_, i) => [{ t: 'note', text: `entry ${i}` }]);
		const a = await late.appendBatch(batches);
		const b = await plain.appendBatch(batches);
		expect(a.map((x) => x.bytes)).toEqual(b.map((x) => x.bytes));
		const observer = await joinNetwork(founder.net, 'observer');
		await syncInto(observer, founder);
		const r = await syncInto(observer, late);
		expect(r.rejected).toEqual([]);
		expect(r.accepted.length).toBe(60);
		expect(observer.state()).toEqual(plain.state());
	});

	it('a signature that fails stores nothing of the batch, and the next batch continues the chain', async () => {
		const founder = await foundNetwork({ members: { b: 'clinician' } });
		const node = await Ledger.open({
			store: new MemoryStore(),
			verifier: nobleVerifier,
			now: fixedNow,
			signer: lateSigner(nobleSigner(testSecret('b')), 4, 3),
			net: founder.net
		});
		await syncInto(node, founder);
		const count = node.size;
		const heads = [...node.heads()];
		await expect(node.appendBatch([[{ t: 'note', text: 'a' }], [{ t: 'note', text: 'b' }], [{ t: 'note', text: 'c' }]])).rejects.toThrow(
			'signer failed'
		);
		expect(node.size).toBe(count);
		expect([...node.heads()]).toEqual(heads);
		const [next] = await node.appendBatch([[{ t: 'note', text: 'd' }]]);
		expect(next!.seq).toBe(0);
		const observer = await joinNetwork(founder.net, 'observer');
		await syncInto(observer, founder);
		expect((await syncInto(observer, node)).accepted).toEqual([next!.id]);
	});
});
