// Several clinic nodes in one test: each node is its own Chromium process with its own
// profile directory (so WebRTC between them is real; two pages of one browser would talk
// over BroadcastChannel instead), driven through the UI as a person would. A node can be
// closed and relaunched on the same profile (its IndexedDB survives), or killed at once as
// a crash would, and its signaling can be cut (the WebSocket to /signaling refused) to take
// it offline while it runs.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base, chromium, expect, type BrowserContext, type Page } from '@playwright/test';
import { chromiumArgs, testBrowserPath } from '../../scripts/chromium.js';
import { openApp, waitUntilOpen } from './support.js';

export { openApp, waitUntilOpen };

export interface Node {
	readonly name: string;
	readonly dir: string;
	context: BrowserContext;
	page: Page;
	/** Whether the signaling WebSocket is refused (the node cannot find peers). */
	signalingBlocked: boolean;
}

/** A fresh, empty browser profile directory for one node. */
export function profileDir(name: string): string {
	return mkdtempSync(join(tmpdir(), `clinic-node-${name}-`));
}

export interface LaunchOptions {
	/** Start with the signaling WebSocket refused (the node cannot find peers). */
	signalingBlocked?: boolean;
	/** Runs on the new browser's first page before the app is opened (e.g. loadSeededLedger). */
	beforeOpen?: (page: Page) => Promise<void>;
	/** Whether the app's service worker may run: the test's `serviceWorkers` option (playwright.config.ts blocks it unless a spec allows it). */
	serviceWorkers?: 'allow' | 'block';
}

/** Starts a Chromium process on `dir` and opens the app; the node runs once the page is up. */
export async function launchNode(name: string, dir: string, baseURL: string, options: LaunchOptions = {}): Promise<Node> {
	const context = await chromium.launchPersistentContext(dir, {
		executablePath: testBrowserPath(),
		args: chromiumArgs,
		headless: true,
		baseURL,
		viewport: { width: 1280, height: 900 },
		serviceWorkers: options.serviceWorkers ?? 'block'
	});
	const node: Node = {
		name,
		dir,
		context,
		page: context.pages()[0] ?? (await context.newPage()),
		signalingBlocked: options.signalingBlocked ?? false
	};
	// Every signaling connection goes through here: passed to the real server, or refused
	// while the node is "offline" (y-webrtc keeps retrying every 1-2.5 s).
	await context.routeWebSocket(/\/signaling$/, (ws) => {
		if (node.signalingBlocked) ws.close({ code: 1011, reason: 'signaling blocked by the test' });
		else ws.connectToServer();
	});
	node.page.on('pageerror', (error) => console.log(`[${name}] page error: ${error.message}`));
	try {
		await options.beforeOpen?.(node.page);
		await openApp(node.page);
	} catch (error) {
		// Nobody holds this node yet to close it: a browser that never opened the app is closed here.
		await context.close().catch(() => undefined);
		throw error;
	}
	return node;
}

/** Closes the node's browser process (its profile, hence its ledger, stays on disk). */
export async function closeNode(node: Node): Promise<void> {
	await node.context.close();
}

/** The process groups of the browser running on `dir` (Playwright starts each browser in a group of its own). */
function browserGroups(dir: string): number[] {
	const flag = `--user-data-dir=${dir}`;
	const groups = new Set<number>();
	for (const line of execFileSync('ps', ['-eo', 'pgid=,args='], { encoding: 'utf8' }).split('\n')) {
		const [pgid, ...args] = line.trim().split(/\s+/);
		if (args.includes(flag)) groups.add(Number(pgid));
	}
	return [...groups];
}

/**
 * Kills the node's browser at once, as a crash or a power cut would: SIGKILL to every
 * process of its group (browser, renderer, storage, network) together, nothing closed or
 * flushed first. Resolves once none of them runs; the profile stays on disk for `relaunch`.
 */
export async function killNode(node: Node): Promise<void> {
	const closed = new Promise<void>((resolve) => node.context.once('close', () => resolve()));
	const groups = browserGroups(node.dir);
	const own = Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(process.pid)], { encoding: 'utf8' }).trim());
	if (groups.length === 0 || groups.some((g) => !(g > 1) || g === own))
		throw new Error(`no browser process group of its own found for ${node.dir}`);
	for (const group of groups) process.kill(-group, 'SIGKILL');
	await closed;
	await expect
		.poll(
			() =>
				execFileSync('ps', ['-eo', 'pgid='], { encoding: 'utf8' })
					.split('\n')
					.filter((g) => groups.includes(Number(g))).length,
			{
				message: `the processes of ${node.name}'s browser exit`,
				timeout: 30_000
			}
		)
		.toBe(0);
}

export function removeProfile(node: Node): void {
	rmSync(node.dir, { recursive: true, force: true });
}

export async function showTab(page: Page, tab: 'ledger' | 'network' | 'members' | 'diagnostics'): Promise<void> {
	await page.getByTestId(`tab-${tab}`).click();
	await expect(page.getByTestId(`tab-${tab}`)).toHaveAttribute('aria-current', 'page');
}

export async function foundNetwork(page: Page, name: string): Promise<void> {
	await waitUntilOpen(page);
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'no-network');
	await page.getByTestId('clinic-name').fill(name);
	await page.getByTestId('create-network').click();
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'ready');
	await expect(page.getByTestId('network-name')).toHaveText(name);
	// A clinic opens on its patients (routes.spec.ts); the specs written for the ledger start there.
	await expect(page).toHaveURL(/\/patients$/);
	await page.getByTestId('tab-ledger').click();
	await expect(page.getByTestId('entry-form')).toBeVisible();
}

/** The node's public key as its screen shows it, before it holds a network. */
export async function keyBeforeJoining(page: Page): Promise<string> {
	const key = await page.getByTestId('node-key').inputValue();
	expect(key).toMatch(/^[0-9a-f]{64}$/);
	return key;
}

/** Adds a member through the Members tab of an admin node and waits for the block. */
export async function addMember(page: Page, key: string, role: string, name: string): Promise<void> {
	await showTab(page, 'members');
	await page.getByTestId('member-key-input').fill(key);
	await page.getByTestId('member-role').selectOption(role);
	await page.getByTestId('member-name').fill(name);
	await page.getByTestId('add-member-button').click();
	await expect(page.getByTestId('member-status')).toContainText('Added');
	await expect(page.getByTestId('member').and(page.locator(`[data-key="${key}"]`))).toHaveAttribute('data-role', role);
}

/** The network link from the Network tab's share panel. */
export async function shareLink(page: Page): Promise<string> {
	await showTab(page, 'network');
	const link = await page.getByTestId('network-link').inputValue();
	expect(link).toContain('#network=');
	return link;
}

/** Opens a network link on a node without a network and joins. */
export async function joinByLink(page: Page, link: string, expectedName: string): Promise<void> {
	await page.goto(link);
	await expect(page.getByTestId('join-network')).toBeVisible();
	await expect(page.getByTestId('join-network-name')).toHaveText(expectedName);
	await expect(page.getByTestId('join-membership-note')).toContainText('An admin of the network must add this key as a member');
	await page.getByTestId('join-network-button').click();
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'ready');
}

/** Waits until the node's ledger holds `size` blocks. */
export async function waitForSize(page: Page, size: number, timeout = 30_000): Promise<void> {
	await expect(page.getByTestId('ledger-size')).toHaveAttribute('data-size', String(size), { timeout });
}

export async function ledgerSize(page: Page): Promise<number> {
	return Number(await page.getByTestId('ledger-size').getAttribute('data-size'));
}

/** Writes test entries from the Diagnostics tab and waits until all are stored. */
export async function writeTestEntries(page: Page, count: number, timeout = 60_000): Promise<void> {
	await showTab(page, 'diagnostics');
	await page.getByTestId('test-count').fill(String(count));
	await page.getByTestId('test-write').click();
	const run = page.getByTestId('test-run');
	await expect(run).toHaveAttribute('data-running', 'false', { timeout });
	await expect(run).toHaveAttribute('data-done', String(count));
}

/** The fingerprint the Diagnostics tab computes (sha256 of all block ids in ledger order). */
export async function uiFingerprint(page: Page): Promise<{ digest: string; blocks: number; summary: string }> {
	await showTab(page, 'diagnostics');
	const value = page.getByTestId('fingerprint-value');
	const before = (await value.count()) > 0 ? await value.getAttribute('data-at') : null;
	await page.getByTestId('fingerprint-compute').click();
	await expect(value).toBeVisible();
	if (before) await expect(value).not.toHaveAttribute('data-at', before);
	return {
		digest: (await value.getAttribute('data-digest'))!,
		blocks: Number(await value.getAttribute('data-blocks')),
		summary: (await page.getByTestId('ledger-summary').getAttribute('data-summary'))!
	};
}

/** What the node stored, read from its IndexedDB behind the app: block ids in ledger order and heads. */
export interface StoredLedger {
	readonly count: number;
	/** sha256 over the ordered ids (clock, then id). */
	readonly orderDigest: string;
	readonly heads: Record<string, { seq: number; id: string }>;
}

/** A block as stored: its id, author, seq and clock. */
export interface StoredRow {
	readonly id: string;
	readonly author: string;
	readonly seq: number;
	readonly clock: number;
}

/**
 * Every block the node stored and its heads, read from its IndexedDB behind the app. Schema
 * 3 (core/storage/segment.ts): blocks in segments, each listing its blocks' ids, authors,
 * seqs and clocks; segments may overlap in ledger order.
 */
export async function storedRows(page: Page): Promise<{ rows: StoredRow[]; heads: { author: string; seq: number; id: string }[] }> {
	return page.evaluate(
		() =>
			new Promise<{ rows: StoredRow[]; heads: { author: string; seq: number; id: string }[] }>((resolve, reject) => {
				const open = indexedDB.open('clinic-ledger');
				open.onerror = () => reject(open.error);
				open.onsuccess = () => {
					const db = open.result;
					const tx = db.transaction(['segments', 'heads']);
					const segments = tx.objectStore('segments').getAll();
					const all = tx.objectStore('heads').getAll();
					tx.oncomplete = () => {
						db.close();
						const rows: StoredRow[] = [];
						type Segment = { ids: string[]; authors: string[]; author: Uint16Array; seq: Float64Array; clock: Float64Array };
						for (const s of segments.result as Segment[])
							s.ids.forEach((id, i) => rows.push({ id, author: s.authors[s.author[i]!]!, seq: s.seq[i]!, clock: s.clock[i]! }));
						resolve({ rows, heads: all.result as { author: string; seq: number; id: string }[] });
					};
					tx.onerror = () => reject(tx.error);
				};
			})
	);
}

export async function storedLedger(page: Page): Promise<StoredLedger> {
	const { rows, heads } = await storedRows(page);
	rows.sort((a, b) => a.clock - b.clock || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
	const hash = createHash('sha256');
	for (const { id } of rows) hash.update(Buffer.from(id, 'hex'));
	return {
		count: rows.length,
		orderDigest: hash.digest('hex'),
		heads: Object.fromEntries(heads.sort((a, b) => (a.author < b.author ? -1 : 1)).map((h) => [h.author, { seq: h.seq, id: h.id }]))
	};
}

/** The peer row for `author` in the node's Network tab. */
export function peerRow(page: Page, author: string) {
	return page.getByTestId('peer').and(page.locator(`[data-author="${author}"]`));
}

/** The node's own key once it is in a network (header). */
export async function ownKey(page: Page): Promise<string> {
	const key = await page.getByTestId('node-id').getAttribute('data-full');
	expect(key).toMatch(/^[0-9a-f]{64}$/);
	return key!;
}

/** Prints each node's sync log (newest first), to explain a failure. */
export async function printSyncLogs(nodes: readonly Node[]): Promise<void> {
	for (const node of nodes) {
		const lines = await node.page
			.getByTestId('sync-log-line')
			.allTextContents()
			.catch(() => ['(page closed)']);
		console.log(`--- sync log of ${node.name}, newest first ---\n${lines.slice(0, 60).join('\n')}`);
	}
}

/** The clinic nodes of one test (the `nodes` fixture). */
export interface Nodes {
	/** A new node: its own Chromium process on an empty profile. */
	launch(name: string, options?: LaunchOptions): Promise<Node>;
	/** Closes `node`'s browser if it still runs (a killed one is closed already) and starts it again on the same profile (its ledger survives). */
	relaunch(node: Node, options?: LaunchOptions): Promise<Node>;
}

/**
 * Playwright's `test` with a `nodes` fixture for tests of several clinic browsers: every
 * node it launched is closed and its profile removed after the test, and when the test
 * failed each node's sync log is printed first, to explain it.
 */
export const test = base.extend<{ nodes: Nodes }>({
	nodes: async ({ baseURL, serviceWorkers }, use, testInfo) => {
		const running: Node[] = [];
		await use({
			launch: async (name, options) => {
				const dir = profileDir(name);
				try {
					const node = await launchNode(name, dir, baseURL!, { serviceWorkers, ...options });
					running.push(node);
					return node;
				} catch (error) {
					rmSync(dir, { recursive: true, force: true });
					throw error;
				}
			},
			relaunch: async (node, options) => {
				await closeNode(node);
				const again = await launchNode(node.name, node.dir, baseURL!, { serviceWorkers, ...options });
				const at = running.indexOf(node);
				if (at >= 0) running[at] = again;
				else running.push(again);
				return again;
			}
		});
		if (testInfo.status !== testInfo.expectedStatus) await printSyncLogs(running);
		for (const node of running) {
			await closeNode(node).catch(() => undefined);
			removeProfile(node);
		}
	}
});

/** `founder` founds `network` and admits `joiner` (as `role`, named `name`), which joins by the shared link and syncs; returns the joiner's key. */
export async function foundAndAdmit(founder: Node, joiner: Node, network: string, role: string, name: string): Promise<string> {
	await foundNetwork(founder.page, network);
	const key = await keyBeforeJoining(joiner.page);
	await addMember(founder.page, key, role, name);
	await joinByLink(joiner.page, await shareLink(founder.page), network);
	await waitForSize(joiner.page, 2);
	return key;
}
