/**
 * One clinic node in this browser process, as the app runs it: a Ledger on IndexedDB
 * with the app's rules and folds, a Replicator, and a Mesh (y-webrtc discovery, one
 * negotiated ledger data channel per peer). Instrumented from outside the core so a run
 * can say where its time went.
 */
import {
	IndexedDBStore,
	Ledger,
	Replicator,
	createSigner,
	detectVerifier,
	sharedWorkerVerifier,
	type AuthorId,
	type BlockId,
	type VersionVector
} from '../../../src/lib/core/index.js';
import { Mesh } from '../../../src/lib/core/sync/mesh.js';
import { testSecret } from '../../../src/lib/core/testing/fixtures.js';
import { APP_LEDGER, FOUNDER, buildFounderLedger, fileBytes, wireBlocks } from './fixture.js';
import { HeapSampler, epochNow, timeReceive, timedStore, timedVerifier } from './probe.js';

interface Probes {
	store: ReturnType<typeof timedStore>;
	verifier: ReturnType<typeof timedVerifier>;
	receive: ReturnType<typeof timeReceive>;
}

interface Arrival {
	seq: number;
	at: number;
	/** True when it came straight from the author's session, false when relayed by another peer. */
	direct: boolean;
}

function log(message: string): void {
	console.error(`[page] ${message}`);
}

function vvEqual(a: VersionVector, b: VersionVector): boolean {
	const keys = Object.keys(b);
	return Object.keys(a).length === keys.length && keys.every((k) => a[k] === b[k]);
}

export class LedgerNode {
	ledger!: Ledger;
	#probes!: Probes;
	#replicator: Replicator | null = null;
	#mesh: Mesh | null = null;
	#heap = new HeapSampler();
	#startPerf = 0;
	#readyAt: number | null = null;
	#arrivals = new Map<number, Arrival>();
	#logs: string[] = [];
	/** Wire bytes of the last attachment block appended here. */
	lastAttachment: Uint8Array | null = null;

	/** Opens `db` with the store, verifier and receive path instrumented. */
	async #open(db: string, durability: 'strict' | 'relaxed') {
		const store = timedStore(await IndexedDBStore.open(db, { durability }));
		// As the app's node verifies: the page's worker pool, else WebCrypto or noble on the page (core ledger.ts).
		const verifier = timedVerifier(sharedWorkerVerifier() ?? (await detectVerifier()));
		return { store, verifier };
	}

	/** Founds the network in `db` and appends notes until it holds `count` blocks. */
	async build(params: { db: string; count: number; members: string[]; batch: number; durability: 'strict' | 'relaxed' }) {
		const { store, verifier } = await this.#open(params.db, params.durability);
		const start = performance.now();
		let reported = 0;
		const built = await buildFounderLedger({
			store: store.store,
			verifier: verifier.verifier,
			count: params.count,
			members: params.members,
			batch: params.batch,
			onProgress: (size) => {
				if (size - reported >= params.count / 5) {
					reported = size;
					log(`built ${size} of ${params.count} blocks in ${((performance.now() - start) / 1000).toFixed(1)} s`);
				}
			}
		});
		this.ledger = built.ledger;
		const ms = performance.now() - start;
		this.#probes = { store, verifier, receive: timeReceive(this.ledger) };
		const storeMs = Object.fromEntries([...store.methods].map(([k, b]) => [k, b.report()]));
		return {
			net: this.ledger.net,
			author: this.ledger.author,
			vv: this.ledger.versionVector(),
			size: this.ledger.size,
			bytes: built.bytes,
			buildMs: ms,
			storeMs,
			verifier: this.ledger.verifierName
		};
	}

	/**
	 * Closes the ledger and opens it again from its database with `durability`: the
	 * fixture is built with relaxed commits (fast), the node then runs as the app does.
	 */
	async reopen(params: { db: string; label: string; durability: 'strict' | 'relaxed' }) {
		await this.ledger.close();
		const start = performance.now();
		const { store, verifier } = await this.#open(params.db, params.durability);
		this.ledger = await Ledger.open({
			...APP_LEDGER,
			store: store.store,
			verifier: verifier.verifier,
			signer: await createSigner(testSecret(params.label))
		});
		this.#probes = { store, verifier, receive: timeReceive(this.ledger) };
		return { openMs: performance.now() - start, size: this.ledger.size };
	}

	/** Opens an empty node of network `net` for test identity `label`. */
	async join(params: { db: string; net: BlockId; label: string; durability: 'strict' | 'relaxed' }) {
		if (params.label === FOUNDER) throw new Error('join: the founder builds, it does not join');
		const { store, verifier } = await this.#open(params.db, params.durability);
		this.ledger = await Ledger.open({
			...APP_LEDGER,
			store: store.store,
			verifier: verifier.verifier,
			signer: await createSigner(testSecret(params.label)),
			net: params.net
		});
		this.#probes = { store, verifier, receive: timeReceive(this.ledger) };
		return { author: this.ledger.author, size: this.ledger.size, verifier: this.ledger.verifierName };
	}

	/** Starts sync: Replicator + Mesh on the signaling relay. Probes and heap start from here. */
	startMesh(params: { secret: string; signaling: string[] }) {
		for (const busy of [
			this.#probes.store.all,
			this.#probes.verifier.busy,
			this.#probes.receive.busy,
			...this.#probes.store.methods.values()
		])
			busy.reset();
		this.#heap.start(100);
		const startAt = epochNow();
		this.#startPerf = performance.now();
		const replicator = new Replicator(this.ledger);
		this.#replicator = replicator;
		replicator.on((event) => {
			if (event.type === 'ready' && this.#readyAt === null) this.#readyAt = performance.now();
			if (event.type === 'log' || event.type === 'closed')
				this.#logs.push(`${event.type}: ${'message' in event ? event.message : event.reason}`);
		});
		this.#mesh = new Mesh({ replicator, secret: params.secret, signaling: params.signaling, onLog: (m) => this.#logs.push(m) });
		return { startAt };
	}

	/** Resolves when this node's version vector equals `vv`; rejects with diagnostics after `timeoutMs`. */
	waitVV(params: { vv: VersionVector; timeoutMs: number }) {
		return new Promise<{ doneAt: number; ms: number }>((resolve, reject) => {
			const finish = () => {
				off();
				clearInterval(poll);
				clearTimeout(timer);
			};
			const check = () => {
				if (!vvEqual(this.ledger.versionVector(), params.vv)) return;
				finish();
				resolve({ doneAt: epochNow(), ms: performance.now() - this.#startPerf });
			};
			const off = this.ledger.on('accepted', check);
			const poll = setInterval(check, 50);
			const timer = setTimeout(() => {
				finish();
				reject(
					new Error(
						`never converged within ${params.timeoutMs / 1000} s: holds ${this.ledger.size} blocks, vector ${JSON.stringify(this.ledger.versionVector())}; ${JSON.stringify(this.status())}`
					)
				);
			}, params.timeoutMs);
			check();
		});
	}

	/** Resolves once `count` sync sessions have completed their handshake. */
	async waitSessions(params: { count: number; timeoutMs: number }) {
		const deadline = performance.now() + params.timeoutMs;
		for (;;) {
			const ready = this.#replicator?.sessions().filter((s) => s.state === 'ready') ?? [];
			if (ready.length >= params.count) return this.status();
			if (performance.now() > deadline)
				throw new Error(
					`only ${ready.length} of ${params.count} sessions ready after ${params.timeoutMs / 1000} s: ${JSON.stringify(this.status())}`
				);
			await new Promise((r) => setTimeout(r, 50));
		}
	}

	/** Sessions, connections, probes, timeline and heap, for the report. */
	status() {
		const sessions = (this.#replicator?.sessions() ?? []).map((s) => ({
			label: s.label,
			peerAuthor: s.peerAuthor,
			linkKind: s.linkKind,
			state: s.state,
			stats: { ...s.stats, rejected: { ...s.stats.rejected } }
		}));
		return {
			size: this.ledger.size,
			pending: this.ledger.pendingCount,
			rejected: this.ledger.rejectedCounts(),
			sessions,
			connections: this.#mesh?.connections() ?? null,
			logs: this.#logs.slice(-20)
		};
	}

	/** Everything measured since startMesh; stops the heap sampler. */
	report() {
		const methods = Object.fromEntries([...this.#probes.store.methods].map(([k, b]) => [k, b.report()]));
		const since = (t: number | null) => (t === null ? null : t - this.#startPerf);
		return {
			...this.status(),
			probes: {
				store: this.#probes.store.all.report(),
				storeMethods: methods,
				verify: this.#probes.verifier.busy.report(),
				receive: this.#probes.receive.busy.report()
			},
			timeline: {
				readyMs: since(this.#readyAt),
				firstReceiveMs: since(this.#probes.receive.firstAt()),
				lastReceiveMs: since(this.#probes.receive.lastAt())
			},
			heap: this.#heap.stop()
		};
	}

	/** Wire bytes of every block held, in stream order (what the Yjs baseline carries). */
	wireBlocks(): Promise<Uint8Array[]> {
		return wireBlocks(this.ledger);
	}

	/** Appends one block with an attachment of `bytes` bytes, timed from the call. */
	async appendAttachment(params: { bytes: number }) {
		const sentAt = epochNow();
		const block = await this.ledger.append([
			{ t: 'attachment', name: 'scan.pdf', mime: 'application/pdf', data: fileBytes(params.bytes, 7) }
		]);
		this.lastAttachment = block.bytes;
		return { sentAt, durableAt: epochNow(), seq: block.seq, blockBytes: block.bytes.length, vv: this.ledger.versionVector() };
	}

	/** Appends `count` notes, one every `everyMs`; each note carries its send time. */
	async writeEvery(params: { count: number; everyMs: number }) {
		const sent: { seq: number; sentAt: number; durableAt: number }[] = [];
		for (let i = 0; i < params.count; i++) {
			const due = performance.now() + params.everyMs;
			const sentAt = epochNow();
			const block = await this.ledger.append([{ t: 'note', text: `propagation ${i} sent at ${sentAt.toFixed(3)}` }]);
			sent.push({ seq: block.seq, sentAt, durableAt: epochNow() });
			await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
		}
		return { sent, vv: this.ledger.versionVector() };
	}

	/** Records when each block of `author` is accepted here, and from whom. */
	trackArrivals(params: { author: AuthorId }) {
		this.#arrivals.clear();
		this.ledger.on('accepted', (blocks, from) => {
			const at = epochNow();
			const sender = this.#replicator?.sessions().find((s) => s.label === from)?.peerAuthor ?? null;
			for (const b of blocks)
				if (b.author === params.author && !this.#arrivals.has(b.seq))
					this.#arrivals.set(b.seq, { seq: b.seq, at, direct: sender === params.author });
		});
	}

	arrivals(): Arrival[] {
		return [...this.#arrivals.values()];
	}

	async stop() {
		this.#heap.stop();
		this.#mesh?.destroy();
		this.#replicator?.close();
		await this.ledger?.close();
	}
}
