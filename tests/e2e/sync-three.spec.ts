// Three clinics, three Chromium processes. C joins before it is a member and is refused
// (kept as a guest on the open connection) until A adds it; then all three sync. C is cut off from signaling (offline) while all
// three write at once; when it is back, every node ends with the same ledger.
import { expect } from '@playwright/test';
import {
	addMember,
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

const EACH = 1200;

test('three browsers write concurrently while one is offline, then all converge', async ({ nodes }) => {
	test.setTimeout(8 * 60_000);
	const a = await nodes.launch('A');
	const b = await nodes.launch('B');
	let c = await nodes.launch('C');

	await foundNetwork(a.page, 'Lakeside Health Network');
	const keyA = await ownKey(a.page);
	const keyB = await keyBeforeJoining(b.page);
	const keyC = await keyBeforeJoining(c.page);
	await addMember(a.page, keyB, 'clinician', 'Northside Clinic');
	const link = await shareLink(a.page);
	await joinByLink(b.page, link, 'Lakeside Health Network');
	await waitForSize(b.page, 2);

	// C joins before anyone admitted it: members refuse it, and its screen says why.
	await joinByLink(c.page, link, 'Lakeside Health Network');
	await expect(c.page.getByTestId('not-member')).toBeVisible();
	await expect(c.page.getByTestId('not-member-key')).toHaveValue(keyC);
	await showTab(c.page, 'network');
	await expect(c.page.getByTestId('sync-log')).toContainText('refused this node', { timeout: 30_000 });
	await expect(c.page.getByTestId('ledger-size')).toHaveAttribute('data-size', '0');

	// A admits C: its guest session with C turns into a syncing one on the same connection, no reload.
	await addMember(a.page, keyC, 'front-desk', 'Eastside Pharmacy');
	await waitForSize(c.page, 3, 60_000);
	await expect(c.page.getByTestId('not-member')).toHaveCount(0);
	await expect(c.page.getByTestId('app')).toHaveAttribute('data-role', 'front-desk');
	await waitForSize(b.page, 3);
	for (const [node, peers] of [
		[a, [keyB, keyC]],
		[b, [keyA, keyC]],
		[c, [keyA, keyB]]
	] as const) {
		await showTab(node.page, 'network');
		for (const peer of peers) {
			await expect(peerRow(node.page, peer)).toHaveAttribute('data-state', 'ready', { timeout: 90_000 });
			await expect(peerRow(node.page, peer)).toHaveAttribute('data-kind', 'webrtc');
		}
		await expect(node.page.getByTestId('connection')).toHaveAttribute('data-webrtc', '2');
		await expect(node.page.getByTestId('connection')).toHaveAttribute('data-broadcast', '0');
	}

	// C goes offline: relaunched with its signaling connection refused.
	c = await nodes.relaunch(c, { signalingBlocked: true });
	await expect(c.page.getByTestId('app')).toHaveAttribute('data-status', 'ready');
	await showTab(c.page, 'network');
	await expect(c.page.getByTestId('connection')).toHaveAttribute('data-online', 'false');
	await expect(c.page.getByTestId('connection')).toHaveAttribute('data-webrtc', '0');
	await expect(c.page.getByTestId('sync-status')).toHaveAttribute('data-online', 'false');

	// All three write at the same time; A and B keep syncing with each other meanwhile.
	const started = Date.now();
	await Promise.all([a, b, c].map((node) => writeTestEntries(node.page, EACH, 4 * 60_000)));
	console.log(`three nodes wrote ${EACH} entries each, concurrently, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
	const total = 3 + 3 * EACH;
	await waitForSize(a.page, 3 + 2 * EACH, 120_000);
	await waitForSize(b.page, 3 + 2 * EACH, 120_000);
	await expect(c.page.getByTestId('ledger-size')).toHaveAttribute('data-size', String(3 + EACH));

	// C is back: everyone converges.
	const healed = Date.now();
	c.signalingBlocked = false;
	await showTab(c.page, 'network');
	await expect(c.page.getByTestId('connection')).toHaveAttribute('data-online', 'true', { timeout: 30_000 });
	for (const node of [a, b, c]) await waitForSize(node.page, total, 180_000);
	console.log(`after C came back, all three held ${total} blocks within ${((Date.now() - healed) / 1000).toFixed(1)} s`);

	const stored = await Promise.all([a, b, c].map((node) => storedLedger(node.page)));
	for (const s of stored) {
		expect(s.count).toBe(total);
		expect(s.heads).toEqual(stored[0]!.heads);
		expect(s.orderDigest).toBe(stored[0]!.orderDigest);
	}
	expect(Object.keys(stored[0]!.heads).sort()).toEqual([keyA, keyB, keyC].sort());
	const prints = [];
	for (const node of [a, b, c]) prints.push(await uiFingerprint(node.page));
	for (const p of prints) {
		expect(p.digest).toBe(prints[0]!.digest);
		expect(p.summary, 'same blocks in the same order, but the fold summary differs: the fold state diverged from the stored blocks').toBe(
			prints[0]!.summary
		);
	}
	expect(JSON.parse(prints[0]!.summary)).toEqual({
		blocks: total,
		txs: [
			['genesis', 1],
			['member.add', 2],
			['note', 3 * EACH]
		]
	});
	for (const node of [a, b, c]) {
		await showTab(node.page, 'network');
		await expect(node.page.getByTestId('refused-by-peer').getByTestId('refusal')).toHaveCount(0);
	}
});
