/**
 * Sync, as the UI sees it: runs the network (state/sync-network.ts: the core's Replicator,
 * one sync session per peer, and a y-webrtc Mesh per room) while the ledger is open, and
 * turns its events into a calm picture: who is connected and how, how far apart the
 * copies are, catch-up progress, refused blocks by reason and by the peer that sent them
 * (peer-table.svelte.ts), join requests (join-desk.svelte.ts), round-trip times
 * (rtt-probe.ts) and a log (sync-log.svelte.ts). Events arrive per batch of blocks; the
 * picture is redrawn at most five times a second, so a catch-up of tens of thousands of
 * blocks stays smooth.
 */
import type { AuthorId, Ledger, ReplicatorEvent } from '$lib/core/index.js';
import type { Keyring } from '$lib/domain/records/keyring.js';
import type { MemberNames } from '$lib/domain/members.js';
import type { NetworkConfig } from '$lib/domain/network-config.js';
import type { SyncControl } from './node.svelte.js';
import { BrowserOnline } from './browser-online.svelte.js';
import { JoinDesk } from './join-desk.svelte.js';
import { PeerTable } from './peer-table.svelte.js';
import { RttProbe } from './rtt-probe.js';
import { SyncLog } from './sync-log.svelte.js';
import { SyncNetwork } from './sync-network.js';
import { short, type ConnectionCounts, type LogLine, type SyncStatus } from './sync-views.js';

export type { CatchUp, ConnectionCounts, JoinRequestView, LinkKind, LogLine, PeerView, RefusalView, SyncStatus } from './sync-views.js';

/** Redraws at most this often (ms): about five times a second. */
const REDRAW_MS = 200;
/** Connection counts and "last seen" are sampled this often (ms) even without events. */
const SAMPLE_MS = 1000;

export class SyncState implements SyncControl {
	#status = $state<SyncStatus>('stopped');
	get status() {
		return this.#status;
	}
	/** Why sync is not running, when it failed to start. */
	#error = $state<string | null>(null);
	get error() {
		return this.#error;
	}
	#browser = new BrowserOnline();
	/** The browser says it has a network connection. */
	get browserOnline() {
		return this.#browser.online;
	}
	/** Signaling servers and whether each is connected. */
	#signaling = $state.raw<{ url: string; connected: boolean }[]>([]);
	get signaling() {
		return this.#signaling;
	}
	#connections = $state.raw<ConnectionCounts>({ webrtc: 0, broadcast: 0, signaling: 0 });
	get connections() {
		return this.#connections;
	}

	#log = new SyncLog(() => this.#redraw());
	#table = new PeerTable({ say: (text, tone) => this.#say(text, tone), peerName: (author) => this.#peerName(author) });
	#joins = new JoinDesk({
		ledger: () => this.#ledger,
		sessions: () => this.#network?.replicator.sessions() ?? [],
		say: (text, tone) => this.#say(text, tone)
	});
	#rtt = new RttProbe();

	get peers() {
		return this.#table.peers;
	}
	/** Join requests from invitees, waiting for an admin (any member node hears them). */
	get joinRequests() {
		return this.#joins.requests;
	}
	/** The latest answer to this node's own join request. */
	get joinReply() {
		return this.#joins.reply;
	}
	/** Peers that refuse this node (it is not a member in their copy of the ledger). */
	get refusedBy() {
		return this.#table.refusedBy;
	}
	/** Nodes announced through presence that have no sync session with this node. */
	get present() {
		return this.#table.present;
	}
	get refusals() {
		return this.#table.refusals;
	}
	get log() {
		return this.#log.lines;
	}

	#ledger: Ledger | null = null;
	#network: SyncNetwork | null = null;
	#offs: (() => void)[] = [];
	#redrawTimer: ReturnType<typeof setTimeout> | null = null;
	#lastRedraw = 0;
	#sampler: ReturnType<typeof setInterval> | null = null;
	/** start/stop run one after another: a settings change restarts cleanly. */
	#queue: Promise<void> = Promise.resolve();

	/** Online: the browser has a network and at least one signaling server answers. */
	get online(): boolean {
		return this.#browser.online && this.#connections.signaling > 0;
	}

	/**
	 * (Re)starts syncing `ledger` with the network described by `config`, in the rooms
	 * `keyring` can open (domain/room-secret.ts; without one, the settings' room only).
	 */
	start(ledger: Ledger, config: NetworkConfig, keyring: Pick<Keyring, 'roomsToJoin'> | null = null): Promise<void> {
		return this.#serial(async () => {
			await this.#teardown();
			await this.#setUp(ledger, config, keyring);
		});
	}

	/** The room secret a network link or invite made now carries: the newest room's. */
	currentSecret(): string | null {
		return this.#network?.currentSecret ?? null;
	}

	/** Leaves the network; the ledger stays open. */
	stop(): Promise<void> {
		return this.#serial(() => this.#teardown());
	}

	/** Sets (or clears) this node's join request: sent to every peer that refuses this node, now and every 15 s. */
	setJoinRequest(request: Uint8Array | null): void {
		this.#joins.setOwn(request);
	}

	/** Answers a pending request as refused (the caller withdraws the invite on the ledger). */
	refuseJoin(key: AuthorId, message: string): void {
		this.#joins.refuse(key, message);
	}

	#serial(work: () => Promise<void>): Promise<void> {
		const run = this.#queue.then(work, work);
		this.#queue = run.catch(() => undefined);
		return run;
	}

	async #setUp(ledger: Ledger, config: NetworkConfig, keyring: Pick<Keyring, 'roomsToJoin'> | null): Promise<void> {
		this.#status = 'starting';
		this.#error = null;
		this.#ledger = ledger;
		try {
			this.#network = await SyncNetwork.open({
				ledger,
				config,
				keyring,
				names: () => this.#names(),
				onEvent: (event) => this.#onEvent(event),
				say: (text, tone) => this.#say(text, tone)
			});
		} catch (error) {
			this.#status = 'stopped';
			this.#error = (error as Error).message;
			throw error;
		}
		this.#offs.push(
			ledger.on('accepted', () => {
				this.#joins.dropAnswered();
				this.#redraw();
			}),
			ledger.on('equivocation', ({ author, seq }) =>
				this.#say(`author ${short(author)} signed two different blocks at seq ${seq}: both kept as evidence, author flagged`, 'bad')
			)
		);
		this.#offs.push(this.#browser.watch((text, tone) => this.#say(text, tone)));
		this.#sampler = setInterval(() => this.#sample(), SAMPLE_MS);
		this.#say(`joining the network room through ${config.signaling.join(', ')}`);
		this.#status = 'running';
		this.#sample();
	}

	async #teardown(): Promise<void> {
		for (const off of this.#offs) off();
		this.#offs = [];
		if (this.#sampler) clearInterval(this.#sampler);
		this.#sampler = null;
		if (this.#redrawTimer) clearTimeout(this.#redrawTimer);
		this.#redrawTimer = null;
		this.#joins.clear();
		const network = this.#network;
		this.#network = null;
		await network?.close();
		this.#ledger = null;
		this.#table.clear();
		this.#rtt.clear();
		if (this.#status !== 'stopped') this.#say('left the network room');
		this.#status = 'stopped';
		this.#signaling = [];
		this.#connections = { webrtc: 0, broadcast: 0, signaling: 0 };
		this.#log.flush();
	}

	#names(): MemberNames {
		return (this.#ledger?.state()['member-names'] ?? {}) as MemberNames;
	}

	#peerName(author: AuthorId | null): string {
		if (!author) return 'a peer';
		const name = this.#names()[author];
		return name ? `${name} (${short(author)})` : short(author);
	}

	#onEvent(event: ReplicatorEvent): void {
		const { session } = event;
		const now = Date.now();
		this.#table.onEvent(event, this.#ledger?.size ?? 0, now);
		const who = this.#peerName(session.peerAuthor);
		switch (event.type) {
			case 'refused':
				this.#say(
					`${who} refused this node: its key is not a member in that peer's copy of the ledger. ${this.#joins.requesting ? 'Sending the join request.' : 'An admin of the network must add this node.'}`,
					'warn'
				);
				this.#joins.onRefused(session);
				break;
			case 'join':
				void this.#joins.onRequest(session, event.data);
				break;
			case 'join-reply':
				this.#joins.onReply(event.data, who, now);
				break;
			case 'log':
				this.#say(event.message, 'warn');
				break;
		}
		this.#redraw();
	}

	/** Connection counts, signaling reachability, round-trip times, join resends and presence; runs every second. */
	#sample(): void {
		const network = this.#network;
		if (!network?.mesh || !this.#ledger) return;
		const now = Date.now();
		network.sample(now);
		void this.#rtt.measure(network.replicator.sessions());
		this.#joins.resendIfDue(now);
		this.#redraw();
	}

	#say(text: string, tone: LogLine['tone'] = 'info'): void {
		this.#log.say(text, tone);
	}

	/** Schedules a redraw; many events within {@link REDRAW_MS} become one. */
	#redraw(): void {
		if (this.#redrawTimer) return;
		const wait = Math.max(0, REDRAW_MS - (Date.now() - this.#lastRedraw));
		this.#redrawTimer = setTimeout(() => {
			this.#redrawTimer = null;
			this.#lastRedraw = Date.now();
			this.#draw();
		}, wait);
	}

	#draw(): void {
		this.#log.flush();
		const ledger = this.#ledger;
		const mesh = this.#network?.mesh;
		if (!ledger || !mesh) return;
		this.#connections = mesh.connections();
		this.#signaling = mesh.provider.signalingConns.map((c) => ({ url: c.url, connected: c.connected }));
		this.#table.draw(ledger, this.#names(), mesh.presence(), this.#rtt);
	}
}
