/**
 * The headless peer: a full node without a screen. It opens its ledger (a database),
 * joins the network's WebRTC mesh through the signaling servers of the network link,
 * verifies every block it receives, keeps it, and serves the ledger to every clinic that
 * connects (catch-up and gossip), so clinics that are never online at the same time
 * still converge. It writes no blocks of its own (its key only authenticates it), except
 * with `--fhir`: records an EHR posts to its FHIR API, and the log of what that API read.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Ledger, Replicator, createSigner, type AuthorId } from '../src/lib/core/index.js';
import { createNodeVerifier } from '../src/lib/core/crypto/node-verifier.js';
import { Mesh } from '../src/lib/core/sync/mesh.js';
import { Rooms } from '../src/lib/core/sync/rooms.js';
import type { NetworkLink } from '../src/lib/domain/network-link.js';
import { APP_LEDGER } from '../src/lib/domain/app-ledger.js';
import { encryptionSecretKey } from '../src/lib/domain/privacy/envelope.js';
import { Keyring } from '../src/lib/domain/records/keyring.js';
import { RoomFollower } from '../src/lib/domain/room-follower.js';
import { serveFhir, type FhirServer } from './fhir-server.js';
import { logActivity, logMesh, short } from './activity.js';
import { openPeerStore } from './ledger-store.js';
import { lockStore } from './lock.js';
import { keepSessionsUp } from './rejoin.js';
import { serveStatus, type StatusServer } from './status.js';
import type { WrtcModule } from './wrtc.js';

/** What {@link startPeer} needs; the CLI builds it from the command line. */
export interface PeerConfig {
	readonly link: NetworkLink;
	readonly storePath: string;
	/** ed25519 seed of this peer's identity. */
	readonly seed: Uint8Array;
	/** @roamhq/wrtc (or an implementation of the same shape). */
	readonly wrtc: WrtcModule;
	/** Receives one line per event (no timestamp). */
	readonly log: (line: string) => void;
	/** Port of the JSON status endpoint on 127.0.0.1 (0: any free port); null or absent: none. */
	readonly statusPort?: number | null;
	/** How long a connected peer may go without a sync session (e.g. it refused this node
	 * as a non-member) before the peer rejoins the mesh to try again (ms, default 30 s). */
	readonly rejoinAfterMs?: number;
	/** Where to serve the FHIR R4 REST API (peer/fhir-server.ts); absent or null: not at all. */
	readonly fhir?: { readonly host: string; readonly port: number; readonly token?: string } | null;
}

/** What the status endpoint reports. */
export interface PeerStatus {
	net: string;
	name: string;
	author: AuthorId;
	/** This node's role in its copy of the roster; null while it is not (known to be) a member. */
	role: string | null;
	size: number;
	heads: { author: AuthorId; seq: number; id: string }[];
	pending: number;
	rejected: Record<string, number>;
	connections: { webrtc: number; broadcast: number; signaling: number };
	sessions: { peer: string; author: AuthorId | null; link: string; state: string; blocksIn: number; blocksOut: number; accepted: number }[];
}

/** A started peer. */
export interface RunningPeer {
	readonly ledger: Ledger;
	readonly replicator: Replicator;
	/** The current mesh (replaced when the peer rejoins). */
	readonly mesh: Mesh;
	readonly author: AuthorId;
	/** URL of the status endpoint, when one was asked for. */
	readonly statusUrl: string | null;
	/** Base URL and bearer token of the FHIR API, when one was asked for. */
	readonly fhir: { readonly url: string; readonly token: string } | null;
	status(): PeerStatus;
	/** Leaves the mesh and closes the ledger; safe to call more than once. */
	close(): Promise<void>;
}

async function openLedger(config: PeerConfig): Promise<Ledger> {
	// A LevelDB directory, created 0700: the ledger holds membership and everything clinics wrote.
	const store = await openPeerStore(config.storePath, config.log);
	try {
		// The app's transaction types and folds: the peer must accept every block a clinic may write.
		return await Ledger.open({
			store,
			net: config.link.net,
			signer: await createSigner(config.seed),
			verifier: await createNodeVerifier(),
			...APP_LEDGER
		});
	} catch (error) {
		await store.close();
		throw error;
	}
}

/**
 * Opens the ledger in `config.storePath` (locked against a second process), joins the
 * mesh and starts syncing. Rejects when the files cannot be used (in use, another
 * network, permissions); the ledger and lock are released again in that case.
 */
export async function startPeer(config: PeerConfig): Promise<RunningPeer> {
	const { link, log } = config;
	mkdirSync(dirname(config.storePath), { recursive: true, mode: 0o700 });
	const unlock = lockStore(config.storePath);
	let ledger: Ledger;
	try {
		ledger = await openLedger(config);
	} catch (error) {
		unlock();
		throw error;
	}
	const author = ledger.author as AuthorId;
	const heads = ledger.heads();
	log(
		`ledger ${config.storePath}: ${ledger.size} blocks from ${heads.length} authors; heads ${heads.map((h) => `${short(h.author)}:${h.seq}`).join(' ') || '(none)'}`
	);

	const replicator = new Replicator(ledger);
	const stopLogging = logActivity(ledger, replicator, log);
	const keyring = new Keyring(author, encryptionSecretKey(config.seed));
	const meshLogs = new Map<Mesh, () => void>();
	const rooms = new Rooms<Mesh>(
		(room) => {
			const mesh = new Mesh({
				replicator,
				secret: room.secret,
				rank: room.epoch,
				signaling: [...link.signaling],
				wrtc: config.wrtc,
				presence: { name: 'headless peer', headless: true },
				onLog: log
			});
			meshLogs.set(mesh, logMesh(mesh, log));
			return mesh;
		},
		async (mesh) => {
			meshLogs.get(mesh)?.();
			meshLogs.delete(mesh);
			// disconnect() first: y-webrtc's destroy() alone leaves the signaling socket open.
			mesh.provider.disconnect();
			mesh.destroy();
			// The room is released once the provider's key promise settles.
			await mesh.provider.key;
		}
	);
	// The link's room, or the newest rotated room this peer can open, plus older ones for their grace period.
	const follower = new RoomFollower({ ledger, keyring, linkSecret: link.secret, rooms, log });
	await follower.start();
	const stopRejoining = keepSessionsUp({
		replicator,
		mesh: () => rooms.current as Mesh,
		rejoin: async () => {
			await rooms.close();
			await follower.update();
		},
		log,
		firstWaitMs: config.rejoinAfterMs ?? 30_000
	});

	const status = (): PeerStatus => ({
		net: ledger.net,
		name: (ledger.state().summary as { name: string }).name || link.name || '',
		author,
		role: ledger.roster().get(author) ?? null,
		size: ledger.size,
		heads: ledger.heads().map((h) => ({ author: h.author, seq: h.seq, id: h.id })),
		pending: ledger.pendingCount,
		rejected: ledger.rejectedCounts() as Record<string, number>,
		connections: (rooms.current as Mesh).connections(),
		sessions: replicator.sessions().map((s) => ({
			peer: s.label,
			author: s.peerAuthor,
			link: s.linkKind,
			state: s.state,
			blocksIn: s.stats.blocksIn,
			blocksOut: s.stats.blocksOut,
			accepted: s.stats.accepted
		}))
	});

	let statusServer: StatusServer | null = null;
	if (config.statusPort !== undefined && config.statusPort !== null) {
		try {
			statusServer = await serveStatus(config.statusPort, status);
		} catch (error) {
			log(`status: cannot listen on 127.0.0.1:${config.statusPort}: ${(error as Error).message}; continuing without it`);
		}
		if (statusServer) log(`status: ${statusServer.url}`);
	}

	let fhirServer: FhirServer | null = null;
	if (config.fhir) {
		try {
			fhirServer = await serveFhir({
				ledger,
				keyring,
				host: config.fhir.host,
				port: config.fhir.port,
				...(config.fhir.token ? { token: config.fhir.token } : {}),
				log
			});
			log(`fhir: ${fhirServer.url} (Authorization: Bearer ${fhirServer.token})`);
		} catch (error) {
			log(`fhir: cannot listen on ${config.fhir.host}:${config.fhir.port}: ${(error as Error).message}; continuing without it`);
		}
	}

	let closing: Promise<void> | null = null;
	return {
		ledger,
		replicator,
		get mesh() {
			return rooms.current as Mesh;
		},
		author,
		statusUrl: statusServer?.url ?? null,
		fhir: fhirServer ? { url: fhirServer.url, token: fhirServer.token } : null,
		status,
		close() {
			closing ??= (async () => {
				stopRejoining();
				stopLogging();
				follower.stop();
				replicator.close();
				await rooms.close();
				await statusServer?.close();
				await fhirServer?.close();
				await ledger.close();
				unlock();
			})();
			return closing;
		}
	};
}
