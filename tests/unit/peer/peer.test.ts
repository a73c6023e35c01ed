/**
 * The headless peer as a real process: node A (this process) founds a network and talks
 * to the peer (a child process, since a y-webrtc room can be joined once per process)
 * over real WebRTC (@roamhq/wrtc) through the real signaling relay on 127.0.0.1.
 * PEER_TEST_LOG=1 copies the peers' logs to stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Replicator, publicKeyOf, type Ledger, type SyncSession } from '../../../src/lib/core/index.js';
import { createNodeVerifier } from '../../../src/lib/core/crypto/node-verifier.js';
import { Mesh } from '../../../src/lib/core/sync/mesh.js';
import { authorOf, foundNetwork, testSecret } from '../../../src/lib/core/testing/fixtures.js';
import { networkLinkUrl, newRoomSecret } from '../../../src/lib/domain/network-link.js';
import { writeKeyFile } from '../../../peer/identity.js';
import type { WrtcModule } from '../../../peer/wrtc.js';
import { attachSignaling } from '../../../server/signaling.js';

const require = createRequire(import.meta.url);
// Node 20 has no global WebSocket; y-webrtc's signaling client needs one.
globalThis.WebSocket ??= (require('ws') as { WebSocket: typeof globalThis.WebSocket }).WebSocket;
const wrtc = require('@roamhq/wrtc') as WrtcModule;
const root = fileURLToPath(new URL('../../..', import.meta.url));
const MAIN = join(root, 'peer/main.js');

/** A running `node peer/main.js`, its output collected line by line. */
class PeerProcess {
	readonly child: ChildProcess;
	readonly lines: string[] = [];
	stderr = '';
	readonly exited: Promise<number | null>;
	#waiters = new Set<() => void>();

	constructor(args: string[]) {
		this.child = spawn(process.execPath, [MAIN, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
		let partial = '';
		this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
			if (process.env.PEER_TEST_LOG) process.stderr.write(chunk);
			const parts = (partial + chunk).split('\n');
			partial = parts.pop()!;
			this.lines.push(...parts);
			for (const wake of this.#waiters) wake();
		});
		this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
		this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
	}

	/** The first line matching `pattern` (past or future). */
	line(pattern: RegExp, ms = 120_000): Promise<RegExpMatchArray> {
		return new Promise((resolve, reject) => {
			const check = () => {
				for (const l of this.lines) {
					const match = pattern.exec(l);
					if (match) {
						this.#waiters.delete(check);
						clearTimeout(timer);
						resolve(match);
						return;
					}
				}
			};
			const timer = setTimeout(() => {
				this.#waiters.delete(check);
				reject(new Error(`no line matching ${pattern} within ${ms} ms:\n${this.lines.join('\n')}\n${this.stderr}`));
			}, ms);
			this.#waiters.add(check);
			check();
		});
	}

	/** SIGTERM, as a supervisor stops it; SIGKILL if it has not exited 10 s later. */
	async stop(): Promise<number | null> {
		if (this.child.exitCode === null && this.child.signalCode === null) {
			this.child.kill('SIGTERM');
			const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
			void this.exited.then(() => clearTimeout(timer));
		}
		return this.exited;
	}
}

// Every bound below only catches a hang: each waits on a line, a status or an event. With
// both cores busy (load 30), a child node took over 20 s to print its first lines.
async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
	const end = Date.now() + ms;
	while (!(await cond())) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

const notes = (n: number, from: number) =>
	Array.from({ length: n }, (_, i) => [{ t: 'note', text: `entry ${from + i} `.padEnd(3000, '..') }]);

describe('headless peer', () => {
	const dir = mkdtempSync(join(tmpdir(), 'clinic-peer-'));
	const storePath = join(dir, 'ledger.log');
	const keyPath = join(dir, 'peer.key');
	const peerAuthor = authorOf('peer');
	let http: Server;
	let signaling: ReturnType<typeof attachSignaling>;
	let a: Ledger;
	let replicator: Replicator;
	let mesh: Mesh;
	let link: string;
	const peers: PeerProcess[] = [];

	const start = () => {
		const p = new PeerProcess(['--invite', link, '--store', storePath, '--key', keyPath, '--status-port', '0']);
		peers.push(p);
		return p;
	};
	const statusOf = async (p: PeerProcess) => {
		const [, url] = await p.line(/status: (http:\S+)/);
		return async () =>
			(await (await fetch(url!)).json()) as { size: number; role: string | null; heads: { author: string; seq: number }[] };
	};
	/** A's live WebRTC session with the headless peer. */
	const sessionWithPeer = (): SyncSession | undefined =>
		replicator.sessions().find((s) => s.peerAuthor === peerAuthor && s.state === 'ready');

	beforeAll(async () => {
		http = createServer();
		signaling = attachSignaling(http, { path: '/signaling' });
		await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
		const { port } = http.address() as AddressInfo;
		a = await foundNetwork({ members: { peer: 'peer' }, verifier: await createNodeVerifier() });
		await a.appendBatch(notes(498, 0));
		const secret = newRoomSecret();
		link = networkLinkUrl('http://127.0.0.1/', { net: a.net, secret, signaling: [`ws://127.0.0.1:${port}/signaling`] });
		replicator = new Replicator(a);
		mesh = new Mesh({ replicator, secret, signaling: [`ws://127.0.0.1:${port}/signaling`], wrtc });
		writeKeyFile(keyPath, testSecret('peer'));
	}, 120_000);

	afterAll(async () => {
		await Promise.all(peers.map((p) => p.stop()));
		replicator?.close();
		// y-webrtc's destroy() alone leaves the signaling socket (and its timers) open.
		mesh?.provider.disconnect();
		mesh?.destroy();
		await a?.close();
		signaling?.close();
		await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
		rmSync(dir, { recursive: true, force: true });
	}, 60_000);

	it('receives the whole ledger over WebRTC, keeps it on disk, and catches up only what is new after a restart', async () => {
		expect(a.size).toBe(500);
		const first = start();
		await first.line(new RegExp(`identity ${peerAuthor}`));
		await first.line(/this key is a member|NOT A MEMBER YET/);
		const status = await statusOf(first);
		await until(async () => (await status()).size === 500, 120_000, 'the peer to hold all 500 blocks');
		expect((await status()).role).toBe('peer');

		const session = sessionWithPeer();
		expect(session?.linkKind).toBe('webrtc');
		expect(session!.stats.blocksOut).toBeGreaterThanOrEqual(500);
		expect(mesh.connections().webrtc).toBeGreaterThanOrEqual(1);
		await first.line(/catch-up from \S+: 500 blocks to receive/);
		await first.line(/caught up with \S+; ledger holds 500 blocks/);

		// Live gossip: a block A writes now reaches the running peer.
		await a.append([{ t: 'note', text: 'while the peer listens' }]);
		await until(async () => (await status()).size === 501, 60_000, 'the gossiped block');
		const headsBefore = a.heads().map((h) => `${h.author.slice(0, 8)}:${h.seq}`);

		expect(await first.stop()).toBe(0);
		await first.line(/stopped; ledger holds 501 blocks/);

		// While the peer is down, A writes 99 more.
		await a.appendBatch(notes(99, 1000));
		expect(a.size).toBe(600);
		await until(() => !sessionWithPeer(), 60_000, 'A to notice the peer left');

		const second = start();
		const [, opened] = await second.line(/ledger \S+: (501 blocks from 1 authors; heads .*)$/);
		expect(opened).toBe(`501 blocks from 1 authors; heads ${headsBefore.join(' ')}`);
		const status2 = await statusOf(second);
		await second.line(/catch-up from \S+: 99 blocks to receive/);
		await until(async () => (await status2()).size === 600, 120_000, 'the restarted peer to catch up');
		const again = sessionWithPeer();
		expect(again).toBeDefined();
		expect(again).not.toBe(session);
		expect(again!.linkKind).toBe('webrtc');
		// Only the difference travelled, not the ledger again (a stale vector can make A
		// repeat a stream once, hence not exactly 99).
		expect(again!.stats.blocksOut).toBeGreaterThanOrEqual(99);
		expect(again!.stats.blocksOut).toBeLessThan(200);
		expect((await status2()).heads).toEqual(a.heads().map((h) => expect.objectContaining({ author: h.author, seq: h.seq })));

		expect(await second.stop()).toBe(0);
		expect(second.stderr).toBe('');
	}, 300_000);

	it('is refused until an admin adds its key, then syncs on the same connection', async () => {
		const key = join(dir, 'newcomer.key');
		writeKeyFile(key, testSecret('newcomer'));
		const newcomer = new PeerProcess([
			'--invite',
			link,
			'--store',
			join(dir, 'newcomer.log'),
			'--key',
			key,
			'--status-port',
			'0',
			'--rejoin-after',
			'1'
		]);
		peers.push(newcomer);
		let stopWatching = () => {};
		const refused = new Promise<void>((resolve) => {
			stopWatching = replicator.on(
				(e) => e.type === 'guest' && e.reason === 'NOT_A_MEMBER' && e.session.peerAuthor === authorOf('newcomer') && resolve()
			);
		});
		await newcomer.line(/NOT A MEMBER YET/);
		await refused;
		stopWatching();
		const status = await statusOf(newcomer);
		expect((await status()).size).toBe(0);

		await a.append([{ t: 'member.add', key: publicKeyOf(testSecret('newcomer')), role: 'peer' }]);
		await until(async () => (await status()).size === a.size, 120_000, 'the admitted peer to receive the ledger');
		await newcomer.line(/this node is now a member \(role peer\)/);
		expect(await newcomer.stop()).toBe(0);
	}, 300_000);

	it('refuses a damaged or missing network link with a clear error and a non-zero exit code', async () => {
		// More cases of the command line: tests/unit/peer/peer-files.test.ts.
		const damaged = new PeerProcess([
			'--invite',
			'http://127.0.0.1/#network=not-base64-json',
			'--store',
			join(dir, 'x.log'),
			'--key',
			join(dir, 'x.key')
		]);
		const missing = new PeerProcess(['--store', join(dir, 'x.log')]);
		expect(await damaged.exited).toBe(2);
		expect(damaged.stderr).toContain('error: the network link is damaged (it does not decode); ask for a new one');
		expect(await missing.exited).toBe(2);
		expect(missing.stderr).toContain('error: no network link');
		expect(damaged.lines.concat(missing.lines)).toEqual([]);
	}, 120_000);
});
