/**
 * Sync, as the UI sees it: runs the core's Replicator (one sync session per peer) and
 * Mesh (y-webrtc room, one ledger data channel per WebRTC connection) while the ledger is
 * open, and turns their events into a calm picture: who is connected and how, how far
 * apart the copies are, catch-up progress, refused blocks by reason and by the peer that
 * sent them, and a log. Events arrive per batch of blocks; the picture is redrawn at most
 * five times a second, so a catch-up of tens of thousands of blocks stays smooth.
 */
import type { AuthorId, BlockId, Ledger, ReasonCode, ReplicatorEvent, SyncSession, VersionVector } from '$lib/core/index.js';
import { Replicator, Rooms } from '$lib/core/index.js';
import type { Mesh } from '$lib/core/sync/mesh.js';
import type { Keyring } from '$lib/domain/records/keyring.js';
import { RoomFollower } from '$lib/domain/room-follower.js';
import type { MemberNames } from '$lib/domain/members.js';
import {
	decodeJoinReply,
	decodeJoinRequest,
	encodeJoinReply,
	judgeJoinRequest,
	type Invites,
	type JoinReply,
	type JoinRequest
} from '$lib/domain/invites.js';
import type { NetworkConfig } from '$lib/domain/network-config.js';
import type { SyncControl } from './node.svelte.js';

/** Redraws at most this often (ms): about five times a second. */
const REDRAW_MS = 200;
/** Connection counts and "last seen" are sampled this often (ms) even without events. */
const SAMPLE_MS = 1000;
/** Lines kept in the sync log. */
const LOG_LINES = 200;
/** Refusals of one reason from one peer logged one by one, then every hundredth. */
const REJECTIONS_LOGGED = 10;
/** Presence (name, block count) is republished at most this often (ms). */
const PRESENCE_MS = 5000;
/** Closed sessions kept in the peers list (as offline, with when they were last seen). */
const KEEP_CLOSED = 20;
/** This node's own join request is sent again this often (ms) to peers that still refuse it. */
const JOIN_RESEND_MS = 15_000;

/** A join request received from a guest, checked against this node's ledger, waiting for an admin. */
export interface JoinRequestView {
	readonly request: JoinRequest;
	/** Role and label of the invite it uses. */
	readonly role: string;
	readonly inviteLabel: string | null;
	/** Hex of the invite's token hash. */
	readonly invite: string;
	readonly receivedAt: number;
}

export type LinkKind = SyncSession['linkKind'];

/** One peer node as the network panel shows it. */
export interface PeerView {
	/** Author key when the handshake told it, else the transport's id for the connection. */
	readonly key: string;
	readonly author: AuthorId | null;
	/** Member name from this node's copy of the ledger, when known. */
	readonly name: string | null;
	/** Role in this node's roster; null when not a member here. */
	readonly role: string | null;
	readonly kind: LinkKind;
	/** 'handshake' while connecting, 'ready' while syncing, 'closed' once gone. */
	readonly state: SyncSession['state'];
	readonly online: boolean;
	/** When a frame last arrived from it (ms since the epoch); null if never. */
	readonly lastSeen: number | null;
	/** Blocks the peer holds, as far as this node knows (from its version vector). */
	readonly theirBlocks: number;
	/** Blocks this node holds that the peer lacks. */
	readonly theyLack: number;
	/** Blocks the peer holds that this node lacks. */
	readonly weLack: number;
	/** Catch-up stream from this peer, while one runs. */
	readonly progress: { readonly received: number; readonly expected: number } | null;
	readonly lastCatchUp: CatchUp | null;
	readonly blocksIn: number;
	readonly blocksOut: number;
	/** Refused blocks from this peer, all reasons. */
	readonly refused: number;
	/** Sent blocks this node refused, or caught equivocating. */
	readonly flagged: boolean;
	/** Why the session ended, when it did. */
	readonly closeReason: string | null;
	/** Round-trip time of the WebRTC connection (ms, from the browser's ICE statistics), when known. */
	readonly rttMs: number | null;
}

/** A finished catch-up: how many blocks came in and how long it took. */
export interface CatchUp {
	readonly blocks: number;
	readonly ms: number;
	readonly at: number;
}

/** Blocks refused from one peer for one reason. */
export interface RefusalView {
	/** Author key of the sender, or the transport id if the handshake had not told it. */
	readonly peer: string;
	readonly author: AuthorId | null;
	readonly name: string | null;
	readonly code: ReasonCode;
	/** Distinct blocks refused (a peer may send the same bad block again and again). */
	readonly count: number;
	/** Times a block was refused, repeats included. */
	readonly attempts: number;
	readonly lastDetail: string;
	readonly lastBlock: BlockId | null;
	readonly lastAt: number;
}

export interface LogLine {
	readonly at: number;
	readonly text: string;
	readonly tone: 'info' | 'good' | 'warn' | 'bad';
	/** How many times this same line was said in a row (1: once). */
	readonly times: number;
}

export interface ConnectionCounts {
	readonly webrtc: number;
	readonly broadcast: number;
	readonly signaling: number;
}

export type SyncStatus = 'stopped' | 'starting' | 'running';

interface PeerRecord {
	session: SyncSession;
	closedAt: number | null;
	closeReason: string | null;
	catchUp: { startedAt: number; acceptedBefore: number } | null;
	lastCatchUp: CatchUp | null;
}

const short = (id: string | null | undefined): string => (id ? id.slice(0, 8) : '?');
const blocksText = (n: number): string => `${n.toLocaleString('en')} ${n === 1 ? 'block' : 'blocks'}`;

/** Σ (seq + 1): the number of blocks a version vector stands for. */
function blocksIn(vv: Readonly<VersionVector>): number {
	let n = 0;
	for (const seq of Object.values(vv)) n += seq + 1;
	return n;
}

/** Blocks `a` holds that `b` lacks. */
function lacking(a: Readonly<VersionVector>, b: Readonly<VersionVector>): number {
	let n = 0;
	for (const [author, seq] of Object.entries(a)) n += Math.max(0, seq - (b[author] ?? -1));
	return n;
}

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
	/** The browser says it has a network connection. */
	#browserOnline = $state(true);
	get browserOnline() {
		return this.#browserOnline;
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
	#peers = $state.raw<PeerView[]>([]);
	get peers() {
		return this.#peers;
	}
	/** Join requests from invitees, waiting for an admin (any member node hears them). */
	#joinRequests = $state.raw<JoinRequestView[]>([]);
	get joinRequests() {
		return this.#joinRequests;
	}
	/** The latest answer to this node's own join request. */
	#joinReply = $state.raw<(JoinReply & { at: number }) | null>(null);
	get joinReply() {
		return this.#joinReply;
	}
	/** Peers that refuse this node (it is not a member in their copy of the ledger). */
	#refusedBy = $state(0);
	get refusedBy() {
		return this.#refusedBy;
	}
	/** Nodes announced through presence that have no sync session with this node. */
	#present = $state.raw<{ key: string; author: AuthorId | null; name: string | null }[]>([]);
	get present() {
		return this.#present;
	}
	#refusalViews = $state.raw<RefusalView[]>([]);
	get refusals() {
		return this.#refusalViews;
	}
	#log = $state.raw<LogLine[]>([]);
	get log() {
		return this.#log;
	}

	#ledger: Ledger | null = null;
	#replicator: Replicator | null = null;
	/** The mesh of the newest room this node is in (presence, counts); the older rooms' meshes only carry sessions. */
	#mesh: Mesh | null = null;
	#rooms: Rooms<Mesh> | null = null;
	#follower: RoomFollower<Mesh> | null = null;
	#offs: (() => void)[] = [];
	#records = new Map<string, PeerRecord>();
	#refusals = new Map<
		string,
		{
			author: AuthorId | null;
			peer: string;
			code: ReasonCode;
			blocks: Set<string>;
			attempts: number;
			lastDetail: string;
			lastBlock: BlockId | null;
			lastAt: number;
		}
	>();
	/** The log as said so far; published to {@link log} on the next redraw. */
	#lines: LogLine[] = [];
	#linesChanged = false;
	#redrawTimer: ReturnType<typeof setTimeout> | null = null;
	#lastRedraw = 0;
	#sampler: ReturnType<typeof setInterval> | null = null;
	#signalingWas = new Map<string, boolean>();
	/** This node's own join request (it holds an invite and is not a member yet). */
	#joinRequest: Uint8Array | null = null;
	#joinSentAt = 0;
	/** Join requests received, by requester key, with the session to answer on. */
	#joins = new Map<AuthorId, { view: JoinRequestView; session: SyncSession }>();
	#presence = { size: -1, at: 0 };
	/** Last measured round-trip time per connection label (ms). */
	#rtt = new Map<string, number>();
	/** start/stop run one after another: a settings change restarts cleanly. */
	#queue: Promise<void> = Promise.resolve();

	/** Online: the browser has a network and at least one signaling server answers. */
	get online(): boolean {
		return this.#browserOnline && this.#connections.signaling > 0;
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
		return this.#follower?.currentSecret ?? null;
	}

	/** Leaves the network; the ledger stays open. */
	stop(): Promise<void> {
		return this.#serial(() => this.#teardown());
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
		// y-webrtc and simple-peer are only needed once a network exists.
		const { Mesh } = await import('$lib/core/sync/mesh.js');
		const replicator = new Replicator(ledger);
		this.#replicator = replicator;
		this.#offs.push(replicator.on((event) => this.#onEvent(event)));
		const onPeers = ({ added, removed }: { added: string[]; removed: string[] }) => {
			for (const id of added) this.#say(`webrtc: connecting to peer ${short(id)}`);
			for (const id of removed) this.#say(`webrtc: peer ${short(id)} disconnected`);
		};
		const rooms = new Rooms<Mesh>(
			(room) => {
				const mesh = new Mesh({
					replicator,
					secret: room.secret,
					rank: room.epoch,
					signaling: [...config.signaling],
					presence: { name: this.#names()[ledger.author ?? ''] ?? null, blocks: ledger.size },
					onLog: (message) => this.#say(message)
				});
				mesh.provider.on('peers', onPeers);
				return mesh;
			},
			async (mesh) => {
				mesh.provider.off('peers', onPeers);
				mesh.destroy();
				// y-webrtc frees the room name once its key promise settles; a restart must wait for that.
				await mesh.provider.key;
			}
		);
		const roomsOf = keyring ?? { roomsToJoin: () => [{ secret: config.secret, epoch: 0, until: null }] };
		const follower = new RoomFollower({ ledger, keyring: roomsOf, linkSecret: config.secret, rooms, log: (message) => this.#say(message) });
		this.#rooms = rooms;
		this.#follower = follower;
		try {
			await follower.start();
		} catch (error) {
			follower.stop();
			await rooms.close();
			replicator.close();
			this.#replicator = null;
			this.#rooms = null;
			this.#follower = null;
			this.#status = 'stopped';
			this.#error = (error as Error).message;
			throw error;
		}
		this.#mesh = rooms.current;
		this.#offs.push(
			ledger.on('accepted', () => {
				// A rotation moves this node to a newer room: the newest one is the one shown.
				this.#mesh = rooms.current;
			})
		);
		this.#offs.push(
			ledger.on('accepted', () => {
				this.#dropAnsweredJoins();
				this.#redraw();
			}),
			ledger.on('equivocation', ({ author, seq }) =>
				this.#say(`author ${short(author)} signed two different blocks at seq ${seq}: both kept as evidence, author flagged`, 'bad')
			)
		);
		if (typeof window !== 'undefined') {
			const online = () => {
				this.#browserOnline = true;
				this.#say('the browser is online again', 'good');
			};
			const offline = () => {
				this.#browserOnline = false;
				this.#say('the browser went offline: peers are unreachable until it is back', 'warn');
			};
			window.addEventListener('online', online);
			window.addEventListener('offline', offline);
			this.#offs.push(() => {
				window.removeEventListener('online', online);
				window.removeEventListener('offline', offline);
			});
			this.#browserOnline = navigator.onLine;
		}
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
		this.#joinRequests = [];
		this.#follower?.stop();
		this.#follower = null;
		this.#replicator?.close();
		this.#replicator = null;
		this.#mesh = null;
		await this.#rooms?.close();
		this.#rooms = null;
		this.#ledger = null;
		this.#records.clear();
		this.#refusals.clear();
		this.#signalingWas.clear();
		this.#presence = { size: -1, at: 0 };
		if (this.#status !== 'stopped') this.#say('left the network room');
		this.#status = 'stopped';
		this.#peers = [];
		this.#present = [];
		this.#refusalViews = [];
		this.#signaling = [];
		this.#connections = { webrtc: 0, broadcast: 0, signaling: 0 };
		this.#flushLog();
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
		let record = this.#records.get(session.label);
		if (event.type === 'attached' || !record || record.session !== session) {
			record = { session, closedAt: null, closeReason: null, catchUp: null, lastCatchUp: record?.lastCatchUp ?? null };
			this.#records.set(session.label, record);
		}
		const who = this.#peerName(session.peerAuthor);
		switch (event.type) {
			case 'attached':
				// The mesh logs the channel opening; the handshake follows.
				break;
			case 'ready':
				this.#say(`sync session ready with ${who} over ${session.linkKind}`, 'good');
				break;
			case 'progress':
				if (event.expected > 0 && !record.catchUp) {
					record.catchUp = { startedAt: now, acceptedBefore: session.stats.accepted };
					this.#say(`catch-up from ${who}: ${blocksText(event.expected)} to receive`);
				}
				break;
			case 'caught-up':
				if (record.catchUp) {
					const blocks = session.stats.accepted - record.catchUp.acceptedBefore;
					const ms = now - record.catchUp.startedAt;
					record.catchUp = null;
					// A stream that brought nothing new (duplicates, refused blocks) is no catch-up.
					if (blocks === 0) break;
					record.lastCatchUp = { blocks, ms, at: now };
					const rate = ms > 0 ? `, ${Math.round((blocks * 1000) / ms).toLocaleString('en')} blocks/s` : '';
					this.#say(
						`caught up with ${who}: ${blocksText(blocks)} in ${(ms / 1000).toFixed(1)} s${rate}; this node holds ${blocksText(this.#ledger?.size ?? 0)}`,
						'good'
					);
				}
				break;
			case 'rejected':
				this.#onRejected(session, event.rejection.code, event.rejection.detail, event.rejection.id ?? null, now);
				break;
			case 'guest':
				this.#say(
					`refused ${who}: its key is not a member of this network in this node's copy of the ledger. The connection stays open: it syncs as soon as an admin adds it (with an invite, or by key under Members).`,
					'warn'
				);
				break;
			case 'refused':
				this.#say(
					`${who} refused this node: its key is not a member in that peer's copy of the ledger. ${this.#joinRequest ? 'Sending the join request.' : 'An admin of the network must add this node.'}`,
					'warn'
				);
				if (this.#joinRequest) session.sendJoin(this.#joinRequest);
				break;
			case 'join':
				void this.#onJoin(session, event.data);
				break;
			case 'join-reply':
				try {
					const reply = decodeJoinReply(event.data);
					this.#joinReply = { ...reply, at: now };
					this.#say(`${who} answered the join request: ${reply.message}`, reply.status === 'refused' ? 'bad' : 'info');
				} catch {
					this.#say(`${who} sent an unreadable answer to the join request`, 'warn');
				}
				break;
			case 'closed':
				record.closedAt = now;
				record.closeReason = event.reason;
				record.catchUp = null;
				this.#onClosed(session, event.reason);
				break;
			case 'log':
				this.#say(event.message, 'warn');
				break;
			case 'detached':
				break;
		}
		this.#redraw();
	}

	#onRejected(session: SyncSession, code: ReasonCode, detail: string, id: BlockId | null, now: number): void {
		const peer = session.peerAuthor ?? session.label;
		const key = `${peer} ${code}`;
		const entry = this.#refusals.get(key) ?? {
			author: session.peerAuthor,
			peer,
			code,
			blocks: new Set<string>(),
			attempts: 0,
			lastDetail: '',
			lastBlock: null,
			lastAt: 0
		};
		entry.attempts++;
		// Bounded: a flood of distinct bad blocks is counted by attempts beyond this.
		if (entry.blocks.size < 10_000) entry.blocks.add(id ?? `attempt ${entry.attempts}`);
		entry.lastDetail = detail;
		entry.lastBlock = id;
		entry.lastAt = now;
		this.#refusals.set(key, entry);
		if (entry.attempts <= REJECTIONS_LOGGED || entry.attempts % 100 === 0) {
			const more = entry.attempts > REJECTIONS_LOGGED ? ` (${entry.attempts} times so far)` : '';
			this.#say(`refused block ${short(id)} from ${this.#peerName(session.peerAuthor)}: ${code}, ${detail}${more}`, 'bad');
		}
	}

	#onClosed(session: SyncSession, reason: string): void {
		const author = session.peerAuthor;
		// Before the handshake proved it, the key is only a claim: a relay names an honest member.
		const who = session.authenticated || !author ? this.#peerName(author) : `a peer claiming to be ${this.#peerName(author)} (unproven)`;
		this.#say(
			`session with ${who} (connection ${session.label.slice(0, 8)}) closed: ${reason}`,
			reason.startsWith('peer left: node stopped') ? 'info' : 'warn'
		);
	}

	/** Sets (or clears) this node's join request: sent to every peer that refuses this node, now and every {@link JOIN_RESEND_MS}. */
	setJoinRequest(request: Uint8Array | null): void {
		this.#joinRequest = request;
		if (!request) {
			this.#joinReply = null;
			return;
		}
		this.#sendJoinRequest();
	}

	#sendJoinRequest(): void {
		if (!this.#joinRequest) return;
		this.#joinSentAt = Date.now();
		for (const s of this.#replicator?.sessions() ?? []) if (s.state === 'refused') s.sendJoin(this.#joinRequest);
	}

	/** Checks a guest's join request against this node's ledger and answers it. */
	async #onJoin(session: SyncSession, data: Uint8Array): Promise<void> {
		const ledger = this.#ledger;
		if (!ledger) return;
		let request: JoinRequest;
		try {
			request = await decodeJoinRequest(data, ledger.net, (sig, msg, key) => ledger.verifySignature(sig, msg, key));
		} catch (error) {
			this.#say(`ignored a join request from ${short(session.peerAuthor)}: ${(error as Error).message}`, 'warn');
			return;
		}
		if (request.key !== session.peerAuthor) {
			this.#say(`ignored a join request for key ${short(request.key)} sent by ${short(session.peerAuthor)}`, 'warn');
			return;
		}
		const invites = (ledger.state().invites ?? {}) as Invites;
		const judged = judgeJoinRequest(request, invites, ledger.roster(), ledger.revocations(), Date.now());
		session.sendJoinReply(encodeJoinReply({ status: judged.status, message: judged.message }));
		if (judged.status === 'refused' || !judged.invite) {
			this.#say(`refused the join request of “${request.name}” (${short(request.key)}): ${judged.message}`, 'warn');
			return;
		}
		const known = this.#joins.has(request.key);
		this.#joins.set(request.key, {
			session,
			view: {
				request,
				role: judged.invite.role,
				inviteLabel: judged.invite.label,
				invite: judged.invite.token,
				receivedAt: this.#joins.get(request.key)?.view.receivedAt ?? Date.now()
			}
		});
		if (!known)
			this.#say(
				`join request from “${request.name}” (${short(request.key)}) with an invite for a ${judged.invite.role}: an admin can approve it under Members`,
				'good'
			);
		this.#publishJoins();
	}

	/** Answers a pending request as refused (the caller withdraws the invite on the ledger). */
	refuseJoin(key: AuthorId, message: string): void {
		const entry = this.#joins.get(key);
		if (!entry) return;
		entry.session.sendJoinReply(encodeJoinReply({ status: 'refused', message }));
		this.#joins.delete(key);
		this.#publishJoins();
	}

	/** Requests whose key became a member (approved here or by another admin) or whose invite is gone are done. */
	#dropAnsweredJoins(): void {
		const ledger = this.#ledger;
		if (!ledger || this.#joins.size === 0) return;
		const roster = ledger.roster();
		const invites = (ledger.state().invites ?? {}) as Invites;
		for (const [key, { view }] of this.#joins) {
			const invite = invites[view.invite];
			if (roster.has(key) || !invite || invite.revoked || (invite.usedBy && invite.usedBy !== key)) this.#joins.delete(key);
		}
		this.#publishJoins();
	}

	#publishJoins(): void {
		this.#joinRequests = [...this.#joins.values()].map((j) => j.view).sort((a, b) => a.receivedAt - b.receivedAt);
	}

	/** Connection counts, signaling reachability and presence; runs every second. */
	#sample(): void {
		const mesh = this.#mesh;
		const ledger = this.#ledger;
		if (!mesh || !ledger) return;
		for (const conn of mesh.provider.signalingConns) {
			const before = this.#signalingWas.get(conn.url);
			if (before === conn.connected) continue;
			if (conn.connected) this.#say(`signaling server ${conn.url} connected`, 'good');
			else if (before === true) this.#say(`signaling server ${conn.url} lost; reconnecting`, 'warn');
			this.#signalingWas.set(conn.url, conn.connected);
		}
		void this.#measureRtt(mesh);
		const now = Date.now();
		if (this.#joinRequest && now - this.#joinSentAt >= JOIN_RESEND_MS) this.#sendJoinRequest();
		if (ledger.size !== this.#presence.size && now - this.#presence.at >= PRESENCE_MS) {
			this.#presence = { size: ledger.size, at: now };
			mesh.setPresence({ name: this.#names()[ledger.author ?? ''] ?? null, blocks: ledger.size });
		}
		this.#redraw();
	}

	/** Keeps each WebRTC connection's latest round-trip time, as the mesh measures it. */
	async #measureRtt(mesh: Mesh): Promise<void> {
		const times = await mesh.roundTripTimes();
		for (const [label, ms] of times) this.#rtt.set(label, ms);
		const conns = mesh.provider.room?.webrtcConns;
		for (const label of this.#rtt.keys()) if (!conns?.has(label)) this.#rtt.delete(label);
	}

	#say(text: string, tone: LogLine['tone'] = 'info'): void {
		const last = this.#lines.at(-1);
		// A line said again and again (a peer re-sending the same bad block) is one line with a count.
		if (last && last.text === text) this.#lines[this.#lines.length - 1] = { ...last, at: Date.now(), times: last.times + 1 };
		else this.#lines.push({ at: Date.now(), text, tone, times: 1 });
		if (this.#lines.length > LOG_LINES) this.#lines.splice(0, this.#lines.length - LOG_LINES);
		this.#linesChanged = true;
		this.#redraw();
	}

	#flushLog(): void {
		if (!this.#linesChanged) return;
		this.#linesChanged = false;
		this.#log = [...this.#lines];
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
		this.#flushLog();
		const ledger = this.#ledger;
		const mesh = this.#mesh;
		if (!ledger || !mesh) return;
		this.#connections = mesh.connections();
		this.#signaling = mesh.provider.signalingConns.map((c) => ({ url: c.url, connected: c.connected }));
		const names = this.#names();
		const roster = ledger.roster();
		const ours = ledger.versionVector();
		const flaggedAuthors = new Set<string>(ledger.flaggedAuthors());
		const refusedBy = new Map<string, number>();
		for (const r of this.#refusals.values()) refusedBy.set(r.peer, (refusedBy.get(r.peer) ?? 0) + r.blocks.size);

		// One row per peer node: its open session, else the one seen last.
		const best = new Map<string, PeerRecord>();
		for (const record of this.#records.values()) {
			const key = record.session.peerAuthor ?? record.session.label;
			const current = best.get(key);
			const open = record.session.state !== 'closed';
			if (
				!current ||
				(open && current.session.state === 'closed') ||
				(open === (current.session.state !== 'closed') && record.session.lastSeen > current.session.lastSeen)
			) {
				best.set(key, record);
			}
		}
		const views: PeerView[] = [];
		for (const [key, record] of best) {
			const s = record.session;
			const author = s.peerAuthor;
			// A connection that never completed its handshake and is gone says nothing useful.
			if (!author && s.state === 'closed') continue;
			const theirs = s.peerVersionVector;
			const progress = s.progress;
			views.push({
				key,
				author,
				name: author ? (names[author] ?? null) : null,
				role: author ? (roster.get(author) ?? null) : null,
				kind: s.linkKind,
				state: s.state,
				online: s.state !== 'closed',
				lastSeen: s.lastSeen > 0 ? s.lastSeen : null,
				theirBlocks: blocksIn(theirs),
				theyLack: lacking(ours, theirs),
				weLack: lacking(theirs, ours),
				progress: progress.streaming && progress.expected > 0 ? { received: progress.received, expected: progress.expected } : null,
				lastCatchUp: record.lastCatchUp,
				blocksIn: s.stats.blocksIn,
				blocksOut: s.stats.blocksOut,
				refused: refusedBy.get(key) ?? 0,
				flagged: (refusedBy.get(key) ?? 0) > 0 || (author !== null && flaggedAuthors.has(author)),
				closeReason: record.closeReason,
				rttMs: s.linkKind === 'webrtc' ? (this.#rtt.get(s.label) ?? null) : null
			});
		}
		views.sort((a, b) => Number(b.online) - Number(a.online) || (b.lastSeen ?? 0) - (a.lastSeen ?? 0) || (a.key < b.key ? -1 : 1));
		this.#peers = views;
		this.#refusedBy = views.filter((v) => v.state === 'refused').length;
		this.#pruneClosed();

		// Presence entries of a node that left linger for up to 30 s (awareness timeout): one per author.
		const syncing = new Set(views.filter((v) => v.online && v.author).map((v) => v.author));
		const present = new Map<string, { author: AuthorId | null; name: string | null }>();
		for (const p of mesh.presence()) {
			const author = typeof p.state.author === 'string' ? (p.state.author as AuthorId) : null;
			if (author && syncing.has(author)) continue;
			present.set(author ?? `client ${p.clientId}`, { author, name: typeof p.state.name === 'string' ? p.state.name : null });
		}
		this.#present = [...present.entries()].map(([key, p]) => ({ key, ...p }));
		this.#refusalViews = [...this.#refusals.values()]
			.map(({ blocks, ...r }) => ({ ...r, count: blocks.size, name: r.author ? (names[r.author] ?? null) : null }))
			.sort((a, b) => b.count - a.count || (a.peer < b.peer ? -1 : 1));
	}

	/** Keeps the most recent closed sessions only: a long-running node sees many come and go. */
	#pruneClosed(): void {
		const closed = [...this.#records.entries()].filter(([, r]) => r.closedAt !== null).sort((a, b) => b[1].closedAt! - a[1].closedAt!);
		for (const [label] of closed.slice(KEEP_CLOSED)) this.#records.delete(label);
	}
}
