// The Demo tab end to end in Chromium: five simulated clinics in the page, each guided
// step run by its button, and the states each step claims read from the table of nodes
// (block counts, fingerprints, refusal codes, flags, evidence), not from its words alone.
import { mkdirSync } from 'node:fs';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { createNetwork, openApp } from './support.js';

const node = (page: Page, name: string): Locator => page.locator(`[data-testid="demo-node"][data-name="${name}"]`);

async function attr(locator: Locator, name: string): Promise<string> {
	return (await locator.getAttribute(name)) ?? '';
}

/** Runs the next step, checks it is the one expected, and waits until it is done with every check true. */
async function runStep(page: Page, id: string): Promise<Locator> {
	const next = page.getByTestId('demo-next');
	await expect(next).toHaveAttribute('data-step', id);
	await expect(next).toBeEnabled();
	await next.click();
	const step = page.locator(`[data-testid="demo-step"][data-step="${id}"]`);
	// A step takes well under a second; the margin is for a busy machine.
	await expect(step).toHaveAttribute('data-done', 'true', { timeout: 30_000 });
	await expect(step.getByTestId('demo-said')).not.toBeEmpty();
	const checks = step.getByTestId('demo-check');
	expect(await checks.count()).toBeGreaterThan(0);
	await expect(checks.and(page.locator('[data-ok="false"]'))).toHaveCount(0);
	return step;
}

/** Waits until every listed clinic shows the same fingerprint and block count; returns them. */
async function converged(page: Page, names: string[]): Promise<{ fingerprint: string; blocks: number }> {
	await expect
		.poll(async () => {
			const values = await Promise.all(
				names.map(async (n) => `${await attr(node(page, n), 'data-fingerprint')}/${await attr(node(page, n), 'data-blocks')}`)
			);
			return new Set(values).size;
		})
		.toBe(1);
	return {
		fingerprint: await attr(node(page, names[0]!), 'data-fingerprint'),
		blocks: Number(await attr(node(page, names[0]!), 'data-blocks'))
	};
}

test('the guided demo: writes spread, an offline clinic merges, forgeries are refused, equivocation kept void and flagged, a destroyed clinic loses nothing, the introducer outage', async ({
	page
}) => {
	test.setTimeout(120_000);
	await openApp(page);
	await createNetwork(page, 'Demo Host Clinic');
	const ownBlocks = await page.getByTestId('block-row').count();
	await page.getByTestId('tab-demo').click();
	await page.getByTestId('demo-start').click();
	await expect(page.getByTestId('demo')).toHaveAttribute('data-status', 'ready', { timeout: 30_000 });
	const all = ['Alder', 'Birch', 'Cedar', 'Dogwood', 'Elm'];
	await expect(page.getByTestId('demo-node')).toHaveCount(5);
	await expect(page.getByTestId('demo-graph')).toHaveAttribute('data-edges', '10');
	let state = await converged(page, all);
	expect(state.blocks).toBe(2);

	// 1. Every clinic writes one entry: all five hold all five.
	await runStep(page, 'writes');
	state = await converged(page, all);
	expect(state.blocks).toBe(7);

	// 2. Cedar goes offline and writes 3; two others write 1 each.
	await runStep(page, 'offline');
	await expect(node(page, 'Cedar')).toHaveAttribute('data-status', 'offline');
	await expect(node(page, 'Cedar')).toHaveAttribute('data-blocks', '10');
	const rest = await converged(page, ['Alder', 'Birch', 'Dogwood', 'Elm']);
	expect(rest.blocks).toBe(9);
	expect(await attr(node(page, 'Cedar'), 'data-fingerprint')).not.toBe(rest.fingerprint);

	// 3. Cedar comes back: everyone holds 7 + 3 + 2 blocks, same order.
	await runStep(page, 'heal');
	await expect(node(page, 'Cedar')).toHaveAttribute('data-status', 'online');
	state = await converged(page, all);
	expect(state.blocks).toBe(12);

	// 4. Elm sends two rewritten copies of a past block: BAD_HASH and BAD_SIGNATURE at every honest clinic, Elm flagged.
	await runStep(page, 'tamper');
	for (const name of ['Alder', 'Birch', 'Cedar', 'Dogwood']) {
		await expect(node(page, name)).toHaveAttribute('data-refusal-codes', 'BAD_HASH,BAD_SIGNATURE');
		await expect(node(page, name)).toHaveAttribute('data-flagged-peers', 'Elm');
	}
	await expect(node(page, 'Elm')).toHaveAttribute('data-refusal-codes', '');
	state = await converged(page, all);
	expect(state.blocks).toBe(12); // nothing forged was stored anywhere
	await expect(page.locator('[data-testid="graph-node"][data-id="Elm"]')).toHaveAttribute('data-tone', 'bad');

	// 5. Elm signs two blocks at one position: both kept without effect, EQUIVOCATION evidence and a flag on Elm's key everywhere else.
	await runStep(page, 'equivocate');
	for (const name of ['Alder', 'Birch', 'Cedar', 'Dogwood']) {
		await expect(node(page, name)).toHaveAttribute('data-refusal-codes', 'BAD_HASH,BAD_SIGNATURE');
		await expect(node(page, name)).toHaveAttribute('data-flagged-authors', 'Elm');
		await expect(node(page, name)).toHaveAttribute('data-evidence', '1');
	}
	state = await converged(page, all);
	expect(state.blocks).toBe(14); // both versions, neither in force

	// 6. Birch writes a last entry and is destroyed: the others still hold all its 14 blocks.
	await runStep(page, 'destroy');
	await expect(node(page, 'Birch')).toHaveAttribute('data-status', 'destroyed');
	await expect(page.getByTestId('demo-graph')).toHaveAttribute('data-edges', '6');
	state = await converged(page, ['Alder', 'Cedar', 'Dogwood', 'Elm']);
	expect(state.blocks).toBe(15);
	await expect(page.locator('[data-testid="demo-step"][data-step="destroy"]')).toContainText('every survivor holds all 15 blocks');

	// 7. The introducer stops: connected clinics still sync; Fir, just added, cannot join.
	await runStep(page, 'introducer-down');
	await expect(page.getByTestId('demo-introducer')).toHaveAttribute('data-up', 'false');
	await expect(page.getByTestId('demo-introducer')).toContainText('new clinics cannot join until it returns');
	state = await converged(page, ['Alder', 'Cedar', 'Dogwood', 'Elm']);
	expect(state.blocks).toBe(17); // an entry and Fir's member.add
	await expect(node(page, 'Fir')).toHaveAttribute('data-status', 'waiting');
	await expect(node(page, 'Fir')).toHaveAttribute('data-blocks', '0');
	await expect(node(page, 'Fir')).toHaveAttribute('data-links', '0');

	// 8. The introducer returns: Fir is introduced and catches up with everything.
	await runStep(page, 'introducer-back');
	await expect(page.getByTestId('demo-introducer')).toHaveAttribute('data-up', 'true');
	await expect(node(page, 'Fir')).toHaveAttribute('data-status', 'online');
	const final = await converged(page, ['Alder', 'Cedar', 'Dogwood', 'Elm', 'Fir']);
	expect(final.blocks).toBe(17);
	await expect(page.getByTestId('demo')).toHaveAttribute('data-status', 'done');

	// The explorer on a clinic's copy: five authors' lanes, every block drawn, a block re-verified.
	const dag = page.getByTestId('demo-explorer').getByTestId('dag');
	await page.getByTestId('demo-explore-node').selectOption('Fir');
	await expect(dag).toHaveAttribute('data-total', '17');
	await expect(dag).toHaveAttribute('data-lanes', '5');
	await expect(dag).toHaveAttribute('data-drawn', '17');
	await page.getByTestId('demo-explorer').getByTestId('dag-canvas').focus();
	await page.keyboard.press('Home');
	const laneHeight = Number(await dag.getAttribute('data-lane-height'));
	const col = Number(await dag.getAttribute('data-col-width'));
	// The genesis: clock 0, first lane (the founder's), past the 120 px gutter and 22 px axis.
	await page
		.getByTestId('demo-explorer')
		.getByTestId('dag-canvas')
		.click({ position: { x: 120 + col / 2, y: 22 + laneHeight / 2 } });
	const detail = page.getByTestId('demo-explorer').getByTestId('block-detail');
	await expect(detail.getByTestId('detail-tx')).toHaveAttribute('data-type', 'genesis');
	await expect(detail).toHaveAttribute('data-hash-ok', 'true');
	await expect(detail).toHaveAttribute('data-signature-ok', 'true');

	// Screenshots for the README: the demo after its last step, and a clinic's copy in the explorer.
	mkdirSync('docs/screenshots', { recursive: true });
	await page.setViewportSize({ width: 1400, height: 900 });
	await page.getByTestId('demo-explore-node').selectOption('Alder');
	await expect(dag).toHaveAttribute('data-total', '17');
	await page.getByTestId('demo').screenshot({ path: 'docs/screenshots/demo.png' });
	await page
		.getByTestId('demo-explorer')
		.getByTestId('dag-canvas')
		.click({ position: { x: 120 + col * 6.5, y: 22 + laneHeight * 4.5 } });
	await page.getByTestId('demo-explorer').screenshot({ path: 'docs/screenshots/explorer.png' });

	// The demo never touched this browser's own ledger.
	await page.getByTestId('tab-ledger').click();
	await expect(page.getByTestId('block-row')).toHaveCount(ownBlocks);
});

test('the demo opens in one click from the first screen, before this browser holds a network, and stores nothing', async ({ page }) => {
	test.setTimeout(120_000);
	await openApp(page);
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'no-network');
	await page.getByTestId('demo-first').click();
	await page.getByTestId('demo-start').click();
	await expect(page.getByTestId('demo')).toHaveAttribute('data-status', 'ready', { timeout: 30_000 });
	await expect(page.getByTestId('demo-node')).toHaveCount(5);
	await runStep(page, 'writes');
	const state = await converged(page, ['Alder', 'Birch', 'Cedar', 'Dogwood', 'Elm']);
	expect(state.blocks).toBe(7);
	await page.getByTestId('demo-back').click();
	await expect(page.getByTestId('create-network-form')).toBeVisible();
	await page.reload();
	// A page load and the app's start: well under a second on a quiet machine, over 10 s seen with every core busy.
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', /no-network|locked|setup/, { timeout: 60_000 });
});
