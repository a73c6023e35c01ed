// Two clinics, two Chromium processes, real WebRTC on 127.0.0.1, signaling on the app's
// server. A founds the network and admits B through the UI; B joins by the network link
// and syncs. Then B is closed, A writes 20,000 entries and a 1.5 MB attachment, and B,
// relaunched on the same profile, catches up to an identical ledger.
import { mkdirSync } from 'node:fs';
import { expect } from '@playwright/test';
import { rowWithText } from './support.js';
import {
	addMember,
	closeNode,
	foundNetwork,
	joinByLink,
	keyBeforeJoining,
	ownKey,
	peerRow,
	shareLink,
	showTab,
	storedLedger,
	test,
	uiFingerprint,
	waitForSize,
	writeTestEntries
} from './nodes.js';

test.describe.configure({ mode: 'serial' });

const ENTRIES = 20_000;

test('two browsers sync over WebRTC; 20,000 blocks and a 1.5 MB file catch up after one was offline', async ({ nodes }) => {
	test.setTimeout(12 * 60_000);
	const a = await nodes.launch('A');
	let b = await nodes.launch('B');

	await foundNetwork(a.page, 'Riverside Family Clinic');
	const keyA = await ownKey(a.page);
	const keyB = await keyBeforeJoining(b.page);
	await addMember(a.page, keyB, 'clinician', 'Hillside Clinic');
	const link = await shareLink(a.page);
	await joinByLink(b.page, link, 'Riverside Family Clinic');

	// B receives the genesis and its own admission, and knows it is a member.
	await waitForSize(b.page, 2);
	await expect(b.page.getByTestId('network-name')).toHaveText('Riverside Family Clinic');
	await expect(b.page.getByTestId('not-member')).toHaveCount(0);
	await expect(b.page.getByTestId('app')).toHaveAttribute('data-role', 'clinician');

	// Live: an entry written on A appears on B, and one written on B appears on A.
	await showTab(a.page, 'ledger');
	await a.page.getByTestId('entry-text').fill('Vaccine fridge at 4.1 °C');
	await a.page.getByTestId('add-entry').click();
	await expect(rowWithText(b.page, 'Vaccine fridge at 4.1 °C')).toHaveCount(1);
	await b.page.getByTestId('entry-text').fill('Hillside: 3 patients referred');
	await b.page.getByTestId('add-entry').click();
	await expect(rowWithText(a.page, 'Hillside: 3 patients referred')).toHaveCount(1);

	// The blocks travelled over WebRTC, not BroadcastChannel.
	for (const [node, peer] of [
		[a, keyB],
		[b, keyA]
	] as const) {
		await showTab(node.page, 'network');
		const row = peerRow(node.page, peer);
		await expect(row).toHaveAttribute('data-kind', 'webrtc');
		await expect(row).toHaveAttribute('data-state', 'ready');
		const connection = node.page.getByTestId('connection');
		await expect(connection).toHaveAttribute('data-online', 'true');
		expect(Number(await connection.getAttribute('data-webrtc'))).toBeGreaterThanOrEqual(1);
		await expect(connection).toHaveAttribute('data-broadcast', '0');
		expect(Number(await connection.getAttribute('data-signaling'))).toBeGreaterThanOrEqual(1);
	}
	await expect(peerRow(a.page, keyB).getByTestId('peer-name')).toHaveText('Hillside Clinic');

	// B goes offline: its browser is closed. A sees it leave.
	await closeNode(b);
	await expect(peerRow(a.page, keyB)).toHaveAttribute('data-online', 'false', { timeout: 30_000 });

	// A attaches a 1.5 MB file and writes 20,000 entries while B is away.
	await showTab(a.page, 'diagnostics');
	const file = Buffer.alloc(1_500_000, 0);
	for (let i = 0; i < file.length; i++) file[i] = (i * 7919) % 251;
	await a.page
		.getByTestId('attach-file')
		.setInputFiles({ name: 'ultrasound-scan.bin', mimeType: 'application/octet-stream', buffer: file });
	await expect(a.page.getByTestId('attach-status')).toContainText('ultrasound-scan.bin');
	const writeStart = Date.now();
	await writeTestEntries(a.page, ENTRIES, 6 * 60_000);
	console.log(`A wrote ${ENTRIES} entries in ${((Date.now() - writeStart) / 1000).toFixed(1)} s`);
	const total = 2 + 2 + 1 + ENTRIES;
	await waitForSize(a.page, total);

	// B comes back on the same profile and catches up.
	const relaunched = Date.now();
	b = await nodes.relaunch(b);
	await expect(b.page.getByTestId('app')).toHaveAttribute('data-status', 'ready');
	await showTab(b.page, 'network');
	// The catch-up shows its progress while it runs.
	await expect(b.page.getByTestId('peer-progress').or(b.page.getByTestId('peer-catchup')).first()).toBeVisible({ timeout: 60_000 });
	await waitForSize(b.page, total, 5 * 60_000);
	const caughtUpIn = Date.now() - relaunched;
	const catchUp = peerRow(b.page, keyA).getByTestId('peer-catchup');
	await expect(catchUp).toBeVisible();
	const uiBlocks = Number(await catchUp.getAttribute('data-blocks'));
	const uiMs = Number(await catchUp.getAttribute('data-ms'));
	console.log(
		`B caught up ${ENTRIES + 1} blocks (incl. a 1.5 MB attachment): ${(caughtUpIn / 1000).toFixed(1)} s from relaunch to a full ledger; ` +
			`the node measured ${uiBlocks} blocks in ${(uiMs / 1000).toFixed(1)} s`
	);
	expect(uiBlocks).toBeGreaterThan(0);
	await expect(peerRow(b.page, keyA)).toHaveAttribute('data-kind', 'webrtc');
	await expect(b.page.getByTestId('connection')).toHaveAttribute('data-broadcast', '0');

	// Identical ledgers: same blocks, same order, same heads, same fingerprint.
	const [storedA, storedB] = [await storedLedger(a.page), await storedLedger(b.page)];
	expect(storedB.count).toBe(total);
	expect(storedB.heads).toEqual(storedA.heads);
	expect(storedB.orderDigest).toBe(storedA.orderDigest);
	const [printA, printB] = [await uiFingerprint(a.page), await uiFingerprint(b.page)];
	expect(printB).toEqual(printA);
	expect(printA.digest).toBe(storedA.orderDigest);
	// The fingerprint was read on Diagnostics; the peers are on the Network screen (each screen its own route).
	await showTab(a.page, 'network');
	await showTab(b.page, 'network');
	await expect(peerRow(a.page, keyB)).toHaveAttribute('data-they-lack', '0');
	await expect(peerRow(b.page, keyA)).toHaveAttribute('data-we-lack', '0');
	await expect(b.page.getByTestId('refused-by-peer').getByTestId('refusal')).toHaveCount(0);

	mkdirSync('docs/screenshots', { recursive: true });
	await b.page.screenshot({ path: 'docs/screenshots/network.png', fullPage: true });
});
