// The headless Node peer (npm run peer) syncing with a clinic browser: real Chromium, real
// WebRTC (@roamhq/wrtc in the peer), signaling on the app's server. The browser founds
// the network and admits the peer's key through the Members form; the peer receives the
// whole ledger and then a live entry; the browser shows it as a WebRTC peer.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from '@playwright/test';
import { addMember, foundNetwork, ledgerSize, peerRow, shareLink, showTab, test, writeTestEntries } from './nodes.js';

test('the headless peer receives the ledger from a browser and stays in sync', async ({ nodes }) => {
	test.setTimeout(5 * 60_000);
	// (The peer is admitted between two runs here; admission of a running peer is tested
	// in tests/unit/peer/peer.test.ts.)
	const dir = mkdtempSync(join(tmpdir(), 'clinic-peer-e2e-'));
	const lines: string[] = [];
	const peer = { child: undefined as ReturnType<typeof spawn> | undefined };
	try {
		const node = await nodes.launch('peer-A');
		await foundNetwork(node.page, 'Peer Clinic');
		await writeTestEntries(node.page, 300);
		const link = await shareLink(node.page);

		const args = [
			'peer/main.js',
			'--invite',
			link,
			'--store',
			join(dir, 'ledger.log'),
			'--key',
			join(dir, 'peer.key'),
			'--status-port',
			'0'
		];
		const start = () => {
			lines.length = 0;
			peer.child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
			peer.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n')));
			peer.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n')));
		};
		const found = (pattern: RegExp) => lines.map((l) => pattern.exec(l)).find((m) => m);
		// First run: the peer makes its key and says it is not a member yet; it is stopped
		// while the admin adds the key, as an operator would do.
		start();
		await expect.poll(() => found(/identity ([0-9a-f]{64})/)?.[1], { timeout: 30_000 }).toBeTruthy();
		await expect.poll(() => found(/NOT A MEMBER YET/), { timeout: 30_000 }).toBeTruthy();
		const key = found(/identity ([0-9a-f]{64})/)![1]!;
		const stopped = new Promise((resolve) => peer.child!.once('exit', resolve));
		peer.child!.kill('SIGTERM');
		await stopped;
		await addMember(node.page, key, 'peer', 'Always-on box');
		const size = await ledgerSize(node.page);
		start();
		await expect.poll(() => found(/status: (http:\S+)/)?.[1], { timeout: 30_000 }).toBeTruthy();
		const statusUrl = found(/status: (http:\S+)/)![1]!;
		const status = async () => (await (await fetch(statusUrl)).json()) as { size: number; sessions: { link: string; state: string }[] };
		await expect.poll(async () => (await status()).size, { timeout: 90_000, intervals: [500] }).toBe(size);
		expect((await status()).sessions.some((s) => s.link === 'webrtc' && s.state === 'ready')).toBe(true);

		await showTab(node.page, 'ledger');
		await node.page.getByTestId('entry-text').fill('written while the peer is connected');
		await node.page.getByTestId('add-entry').click();
		await expect(node.page.getByTestId('entry-status')).toContainText('Saved in block');
		await expect.poll(async () => (await status()).size, { timeout: 30_000 }).toBe(size + 1);

		await showTab(node.page, 'network');
		await expect(peerRow(node.page, key)).toHaveAttribute('data-kind', 'webrtc');
	} catch (error) {
		console.log(lines.join('\n'));
		throw error;
	} finally {
		peer.child?.kill('SIGTERM');
		rmSync(dir, { recursive: true, force: true });
	}
});
