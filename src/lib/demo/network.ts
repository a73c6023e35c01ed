/**
 * The demo's simulated clinic network: N nodes inside one page (or one Node process),
 * each a real {@link Ledger} on a {@link MemoryStore} with a {@link Replicator}, joined
 * by in-memory links that carry the real sync protocol. Nothing here is special-cased
 * for the demo: validation, refusals, equivocation evidence and convergence are the
 * core's own. What the demo adds is the stage: an introducer that hands out new links
 * (the signaling relay's role), switches that take a node offline or destroy it, and a
 * misbehaving node that writes raw frames onto its links.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import {
	CodedError,
	Ledger,
	MemoryStore,
	Replicator,
	encodeMessage,
	fromHex,
	generateSecretKey,
	memoryLinkPair,
	nobleSigner,
	toHex,
	type AuthorId,
	type Block,
	type BlockId,
	type Link,
	type ReasonCode,
	type Signer,
	type Verifier
} from '$lib/core/index.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { memberAddTx } from '$lib/domain/members.js';
import { noteTx } from '$lib/domain/note.js';
import { twinOfHead } from './forgery.js';

/** Names of the simulated clinics, in the order nodes are made. */
export const CLINIC_NAMES = ['Alder', 'Birch', 'Cedar', 'Dogwood', 'Elm', 'Fir', 'Gingko', 'Hazel', 'Ivy'] as const;
/** Session repair period inside the demo (ms): a lost or refused frame is retried this fast. */
const TICK_MS = 100;

export type NodeStatus = 'online' | 'offline' | 'destroyed' | 'waiting';

/** One refusal as a node recorded it: who sent what, and why it was refused. */
export interface Refusal {
	readonly from: string;
	readonly code: ReasonCode;
	readonly block: BlockId | null;
	readonly detail: string;
}

/** Blocks that travelled along one link direction (for the flowing dots). */
export interface Flow {
	readonly from: string;
	readonly to: string;
	readonly blocks: number;
	readonly at: number;
}

export interface DemoNode {
	readonly name: string;
	readonly ledger: Ledger;
	readonly replicator: Replicator;
	readonly signer: Signer;
	status: NodeStatus;
	/** Links by peer name: closing them is how a node goes offline. */
	readonly links: Map<string, Link>;
	readonly refusals: Refusal[];
	readonly offs: (() => void)[];
}

export interface NodeView {
	readonly name: string;
	readonly author: AuthorId;
	readonly status: NodeStatus;
	readonly blocks: number;
	readonly pending: number;
	/** sha256 over the ordered block ids, first 8 bytes: equal exactly when the copies are equal. */
	readonly fingerprint: string;
	readonly peers: string[];
	readonly refusals: readonly Refusal[];
	/** Authors this node caught signing two blocks at one position. */
	readonly flaggedAuthors: string[];
	/** Names of the peers this node refused blocks from (any reason but a duplicate). */
	readonly flaggedPeers: string[];
	readonly evidence: number;
}

export interface NetworkView {
	readonly nodes: NodeView[];
	readonly links: [string, string][];
	readonly introducerUp: boolean;
	readonly flows: Flow[];
}

export interface DemoNetworkOptions {
	/** Simulated clinics (default 5). */
	nodes?: number;
	/** Verifier for every node; detected (WebCrypto, else noble) when omitted. */
	verifier?: Verifier;
	/** How long flows are kept for the view (ms, default 2000). */
	flowMs?: number;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class DemoNetwork {
	readonly nodes = new Map<string, DemoNode>();
	introducerUp = true;
	/** Introductions refused while the introducer was away, by node name. */
	readonly unintroduced = new Set<string>();
	#flows: Flow[] = [];
	#flowMs: number;
	#verifier: Verifier | undefined;
	#timer: ReturnType<typeof setInterval> | null = null;
	#listeners = new Set<() => void>();
	#net: BlockId | null = null;
	#nameOf = new Map<string, string>();

	private constructor(options: DemoNetworkOptions) {
		this.#flowMs = options.flowMs ?? 2000;
		this.#verifier = options.verifier;
	}

	/**
	 * Founds a network at the first clinic, which adds the others as members (one signed
	 * block of `member.add`), then connects every node to every other through the
	 * introducer and waits until all hold the same ledger.
	 */
	static async start(options: DemoNetworkOptions = {}): Promise<DemoNetwork> {
		const count = options.nodes ?? 5;
		if (!Number.isInteger(count) || count < 2 || count > CLINIC_NAMES.length - 1) {
			throw new RangeError(`nodes: expected 2 to ${CLINIC_NAMES.length - 1}`);
		}
		const demo = new DemoNetwork(options);
		const names = CLINIC_NAMES.slice(0, count);
		const signers = names.map(() => nobleSigner(generateSecretKey()));
		const founder = await Ledger.create({
			store: new MemoryStore(),
			signer: signers[0]!,
			...(demo.#verifier ? { verifier: demo.#verifier } : {}),
			folds: APP_FOLDS,
			indexes: APP_INDEXES,
			rules: APP_RULES,
			genesis: { name: `${names[0]} Clinic` }
		});
		demo.#net = founder.net;
		await founder.append(names.slice(1).map((name, i) => memberAddTx(toHex(signers[i + 1]!.publicKey), 'clinician', `${name} Clinic`)));
		demo.#add(names[0]!, founder, signers[0]!);
		for (const [i, name] of names.entries()) {
			if (i === 0) continue;
			demo.#add(name, await demo.#openLedger(signers[i]!), signers[i]!);
		}
		for (const name of names) demo.#introduce(name);
		demo.#timer = setInterval(() => {
			for (const node of demo.nodes.values()) node.replicator.tick();
		}, TICK_MS);
		await demo.converged(15_000);
		return demo;
	}

	get net(): BlockId {
		return this.#net!;
	}

	#openLedger(signer: Signer): Promise<Ledger> {
		return Ledger.open({
			store: new MemoryStore(),
			signer,
			net: this.net,
			...(this.#verifier ? { verifier: this.#verifier } : {}),
			folds: APP_FOLDS,
			indexes: APP_INDEXES,
			rules: APP_RULES
		});
	}

	#add(name: string, ledger: Ledger, signer: Signer): DemoNode {
		const replicator = new Replicator(ledger, { tickMs: 0, retryMs: 300 });
		const node: DemoNode = { name, ledger, replicator, signer, status: 'online', links: new Map(), refusals: [], offs: [] };
		this.#nameOf.set(toHex(signer.publicKey), name);
		node.offs.push(
			replicator.on((event) => {
				if (event.type === 'rejected') {
					const r = event.rejection;
					node.refusals.push({ from: event.session.label, code: r.code, block: r.id ?? null, detail: r.detail });
					this.#changed();
				} else if (event.type === 'detached' || event.type === 'ready') this.#changed();
			}),
			ledger.on('accepted', (blocks, from) => {
				this.#flows.push({ from: from ?? name, to: name, blocks: blocks.length, at: Date.now() });
				this.#changed();
			})
		);
		this.nodes.set(name, node);
		return node;
	}

	/** The introducer (signaling relay) connects `name` to every online node it is not linked to yet. */
	#introduce(name: string): boolean {
		const node = this.#node(name);
		if (!this.introducerUp) {
			this.unintroduced.add(name);
			node.status = node.links.size > 0 ? 'online' : 'waiting';
			this.#changed();
			return false;
		}
		this.unintroduced.delete(name);
		node.status = 'online';
		for (const other of this.nodes.values()) {
			if (other.name === name || other.status !== 'online' || node.links.has(other.name)) continue;
			const [a, b] = memoryLinkPair();
			node.links.set(other.name, a);
			other.links.set(name, b);
			const forget = (owner: DemoNode, peer: string, link: Link) => () => {
				if (owner.links.get(peer) === link) owner.links.delete(peer);
			};
			// The session owns the link's onClose; its 'closed' event keeps the link table right.
			const sa = node.replicator.attach(a, other.name);
			const sb = other.replicator.attach(b, name);
			sa.on((e) => e.type === 'closed' && forget(node, other.name, a)());
			sb.on((e) => e.type === 'closed' && forget(other, name, b)());
		}
		this.#changed();
		return true;
	}

	#node(name: string): DemoNode {
		const node = this.nodes.get(name);
		if (!node) throw new CodedError('DEMO_UNKNOWN_NODE', `no demo node named ${name}`);
		return node;
	}

	/** Writes one note at `name`; resolves once it is durable there. */
	async write(name: string, text: string): Promise<Block> {
		const node = this.#node(name);
		if (node.status === 'destroyed') throw new CodedError('DEMO_NODE_DESTROYED', `${name} was destroyed`);
		return node.ledger.append([noteTx(text)]);
	}

	/** Cuts every link of `name` (its network is gone); it keeps working on its own copy. */
	goOffline(name: string): void {
		const node = this.#node(name);
		for (const link of [...node.links.values()]) link.close();
		node.links.clear();
		node.status = 'offline';
		this.#changed();
	}

	/** Brings `name` back: asks the introducer for links to every online node. */
	comeOnline(name: string): boolean {
		return this.#introduce(name);
	}

	/** Removes `name` for good: links cut, replicator stopped, its store dropped. */
	destroy(name: string): void {
		const node = this.#node(name);
		for (const link of [...node.links.values()]) link.close();
		node.links.clear();
		node.replicator.close();
		for (const off of node.offs) off();
		node.status = 'destroyed';
		this.#changed();
	}

	setIntroducer(up: boolean): void {
		this.introducerUp = up;
		if (up) for (const name of [...this.unintroduced]) this.#introduce(name);
		this.#changed();
	}

	/**
	 * A new clinic: `admin` adds its key as a member (a signed `member.add`, synced like any
	 * block), then the new node asks the introducer for peers. Returns whether it got any.
	 */
	async addClinic(admin: string): Promise<{ name: string; introduced: boolean }> {
		const name = CLINIC_NAMES.find((n) => !this.nodes.has(n));
		if (!name) throw new CodedError('DEMO_NO_NAMES_LEFT', 'no clinic names left');
		const signer = nobleSigner(generateSecretKey());
		await this.#node(admin).ledger.append([memberAddTx(toHex(signer.publicKey), 'clinician', `${name} Clinic`)]);
		const node = this.#add(name, await this.#openLedger(signer), signer);
		node.status = 'waiting';
		return { name, introduced: this.#introduce(name) };
	}

	/** Sends raw wire blocks from `from` to every peer it is linked to, as a hostile node would. */
	sendRaw(from: string, blocks: readonly Uint8Array[]): string[] {
		const node = this.#node(from);
		const frame = encodeMessage({ m: 'blocks', items: [...blocks] });
		const sent: string[] = [];
		for (const [peer, link] of node.links) {
			if (!link.open) continue;
			link.send(frame);
			sent.push(peer);
		}
		return sent;
	}

	/**
	 * Signs a second block at the position of `name`'s newest block: same seq, prev, deps
	 * and clock, other content. Validly signed, so only the position gives it away.
	 */
	equivocate(name: string, text: string): Promise<{ original: Block; twin: Block }> {
		const node = this.#node(name);
		return twinOfHead(node.name, node.ledger, node.signer, text);
	}

	/** Names of nodes that are not destroyed. */
	alive(): DemoNode[] {
		return [...this.nodes.values()].filter((n) => n.status !== 'destroyed');
	}

	/**
	 * Resolves once every linked, non-destroyed node holds the same blocks (equal version
	 * vectors, nothing pending); rejects after `timeoutMs`. Returns the time it took.
	 */
	async converged(timeoutMs = 15_000, among: DemoNode[] = this.alive().filter((n) => n.status === 'online')): Promise<number> {
		const started = performance.now();
		for (;;) {
			const keys = among.map((n) => JSON.stringify(Object.entries(n.ledger.versionVector()).sort()));
			if (keys.every((k) => k === keys[0]) && among.every((n) => n.ledger.pendingCount === 0)) return performance.now() - started;
			if (performance.now() - started > timeoutMs) {
				throw new CodedError(
					'DEMO_NOT_CONVERGED',
					`nodes did not converge within ${timeoutMs} ms: ${among.map((n) => `${n.name} ${n.ledger.size}`).join(', ')}`
				);
			}
			await pause(2);
		}
	}

	/** The whole network as the view draws it. */
	async view(): Promise<NetworkView> {
		const now = Date.now();
		this.#flows = this.#flows.filter((f) => now - f.at < this.#flowMs);
		const nodes: NodeView[] = [];
		for (const node of this.nodes.values()) {
			const flaggedPeers = [...new Set(node.refusals.filter((r) => r.code !== 'DUPLICATE').map((r) => r.from))];
			nodes.push({
				name: node.name,
				author: toHex(node.signer.publicKey) as AuthorId,
				status: node.status,
				blocks: node.ledger.size,
				pending: node.ledger.pendingCount,
				fingerprint: await fingerprint(node.ledger),
				peers: [...node.links.keys()].sort(),
				refusals: [...node.refusals],
				flaggedAuthors: node.ledger.flaggedAuthors().map((a) => this.#nameOf.get(a) ?? a.slice(0, 8)),
				flaggedPeers,
				evidence: (await node.ledger.evidence()).length
			});
		}
		const links: [string, string][] = [];
		for (const node of this.nodes.values()) for (const peer of node.links.keys()) if (node.name < peer) links.push([node.name, peer]);
		return { nodes, links, introducerUp: this.introducerUp, flows: [...this.#flows] };
	}

	nameOf(author: string): string | undefined {
		return this.#nameOf.get(author);
	}

	/** Called (at most once per macrotask) whenever something the view shows changed. */
	onChange(listener: () => void): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	#scheduled = false;
	#changed(): void {
		if (this.#scheduled) return;
		this.#scheduled = true;
		setTimeout(() => {
			this.#scheduled = false;
			for (const l of this.#listeners) l();
		}, 0);
	}

	stop(): void {
		if (this.#timer) clearInterval(this.#timer);
		this.#timer = null;
		for (const node of this.nodes.values()) {
			if (node.status === 'destroyed') continue;
			node.replicator.close();
			for (const off of node.offs) off();
		}
		this.#listeners.clear();
	}
}

/** sha256 over the ids in ledger order, first 8 bytes in hex (the demo's ledgers are small). */
async function fingerprint(ledger: Ledger): Promise<string> {
	const hash = sha256.create();
	for await (const block of ledger.blocks()) hash.update(fromHex(block.id));
	return toHex(hash.digest()).slice(0, 16);
}
