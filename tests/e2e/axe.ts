// Accessibility checks with axe-core (WCAG 2.1 A and AA rules), run in the page itself:
// axe's source is added to a document once, and each check is one `axe.run` there. The
// same axe-core and rules as @axe-core/playwright's AxeBuilder (whose dependency this is),
// without its cost: AxeBuilder injects the whole source again on every check and finishes
// each run in a new blank page, 1.2 core-seconds a check against 0.1 for `axe.run`
// (measured on the founded app's first screen, docs/app.md). The app has no frames, so
// checking the top document checks everything shown.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect, type Page } from '@playwright/test';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(
	join(dirname(createRequire(require.resolve('@axe-core/playwright')).resolve('axe-core')), 'axe.min.js'),
	'utf8'
);

export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export interface AxeViolation {
	readonly id: string;
	readonly impact: string | null;
	readonly help: string;
	/** A CSS selector of each element found in violation. */
	readonly targets: string[];
}

export interface AxeFindings {
	readonly violations: AxeViolation[];
	/** How many rules passed: a check that ran no rule is no check. */
	readonly passes: number;
}

/** The page as it is now, checked against {@link WCAG_TAGS}; `within`: only the elements under this selector. */
export async function axeCheck(page: Page, within?: string): Promise<AxeFindings> {
	if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
	return page.evaluate(
		async ({ tags, within }) => {
			type Result = {
				violations: { id: string; impact?: string | null; help: string; nodes: { target: string[] }[] }[];
				passes: unknown[];
			};
			const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<Result> } }).axe;
			const result = await axe.run(within ? { include: [within] } : document, { runOnly: { type: 'tag', values: tags } });
			return {
				violations: result.violations.map((v) => ({
					id: v.id,
					impact: v.impact ?? null,
					help: v.help,
					targets: v.nodes.map((n) => n.target.join(' '))
				})),
				passes: result.passes.length
			};
		},
		{ tags: WCAG_TAGS, within }
	);
}

/**
 * Fails naming each violation (rule, impact, help, the first elements found) when the page
 * as it is now, or the part under `within`, breaks a rule; and when axe ran almost none.
 */
export async function expectAccessible(page: Page, where: string, within?: string): Promise<void> {
	const result = await axeCheck(page, within);
	const found = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.targets.slice(0, 5).join('\n  ')}`);
	expect(found, `${where}:\n${found.join('\n')}`).toEqual([]);
	expect(result.passes, `${where}: axe ran its rules`).toBeGreaterThan(10);
}
