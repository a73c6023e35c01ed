// The demo engine in Node: the same script the Demo tab runs, step by step, checking the
// nodes' ledgers directly (not the script's own checks alone).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toHex } from '../../../src/lib/core/index.js';
import { testVerifier } from '../../../src/lib/core/testing/fixtures.js';
import { DemoNetwork } from '../../../src/lib/demo/network.js';
import { forgeBlock } from '../../../src/lib/demo/forgery.js';
import { STEPS, villainOf, type ScriptMemory, type StepOutcome } from '../../../src/lib/demo/script.js';

let demo: DemoNetwork | null = null;
afterEach(() => {
	demo?.stop();
	demo = null;
});

const vv = (d: DemoNetwork, name: string) => JSON.stringify(Object.entries(d.nodes.get(name)!.ledger.versionVector()).sort());

describe('demo network', { timeout: 30_000 }, () => {
	it('starts 5 clinics that share the founding blocks, all members', async () => {
		demo = await DemoNetwork.start({ verifier: testVerifier() });
		expect(demo.nodes.size).toBe(5);
		const sizes = [...demo.nodes.values()].map((n) => n.ledger.size);
		expect(sizes).toEqual([2, 2, 2, 2, 2]); // genesis + the member.add block
		const roster = demo.nodes.get('Alder')!.ledger.roster();
		for (const node of demo.nodes.values()) expect(roster.has(toHex(node.signer.publicKey) as never)).toBe(true);
		const view = await demo.view();
		expect(view.links).toHaveLength(10); // full mesh
		expect(new Set(view.nodes.map((n) => n.fingerprint)).size).toBe(1);
	});

	it('rejects a node count out of range', async () => {
		await expect(DemoNetwork.start({ nodes: 1 })).rejects.toThrow(RangeError);
	});

	it('forged copies of a block fail with BAD_HASH and BAD_SIGNATURE as intrinsic checks', async () => {
		demo = await DemoNetwork.start({ verifier: testVerifier(), nodes: 3 });
		const block = await demo.write('Alder', 'dose 5 ml');
		await demo.converged();
		const forged = forgeBlock(block, 'dose 50 ml');
		const result = await demo.nodes.get('Cedar')!.ledger.receive([forged.badHash, forged.badSignature], 'test');
		expect(result.rejected.map((r) => r.code).sort()).toEqual(['BAD_HASH', 'BAD_SIGNATURE']);
	});
});

describe('demo script', () => {
	it('runs every step with every check true, and the ledgers agree with what it says', async () => {
		demo = await DemoNetwork.start({ verifier: testVerifier() });
		const memory: ScriptMemory = {};
		const outcomes = new Map<string, StepOutcome>();
		for (const step of STEPS) {
			const outcome = await step.run(demo, memory);
			outcomes.set(step.id, outcome);
			for (const check of outcome.checks) expect(check.ok, `${step.id}: ${check.label}`).toBe(true);
			expect(outcome.said.length).toBeGreaterThan(20);
		}
		const nodes = demo.nodes;

		// Writes: every node held the 5 first entries.
		for (const block of memory.firstWrites!) for (const node of nodes.values()) expect(await node.ledger.store.get(block.id)).toBeDefined();

		// Offline then heal: Cedar's offline entries are everywhere now.
		expect(memory.offline!.name).toBe('Cedar');
		for (const block of memory.offline!.written)
			for (const node of demo.alive()) expect(await node.ledger.store.get(block.id)).toBeDefined();

		// Tamper: every honest survivor refused Elm's forgeries with both codes (its second version is kept, void: see below).
		const villain = villainOf(demo);
		expect(villain.name).toBe('Elm');
		for (const name of ['Alder', 'Cedar', 'Dogwood']) {
			const codes = nodes
				.get(name)!
				.refusals.filter((r) => r.from === 'Elm')
				.map((r) => r.code);
			expect(codes).toEqual(expect.arrayContaining(['BAD_HASH', 'BAD_SIGNATURE']));
		}

		// Equivocation: evidence and flag at every honest node.
		const eq = outcomes.get('equivocate')!.facts;
		for (const name of ['Alder', 'Cedar', 'Dogwood']) {
			const ledger = nodes.get(name)!.ledger;
			expect(ledger.flaggedAuthors()).toContain(toHex(villain.signer.publicKey));
			expect((await ledger.evidence()).map((e) => [e.id, e.conflictsWith].sort())).toContainEqual([eq.twin, eq.original].sort());
			// Both versions kept, neither in force, on every honest node whichever it saw first.
			expect(ledger.voidReason(eq.twin as never)).toMatch(/^equivocated/);
			expect(ledger.voidReason(eq.original as never)).toMatch(/^equivocated/);
		}

		// Destroyed: Birch is out, nothing lost.
		expect(nodes.get('Birch')!.status).toBe('destroyed');
		expect(outcomes.get('destroy')!.facts.lost).toBe(0);

		// Introducer: Fir waited with nothing, then caught up with everyone.
		expect(outcomes.get('introducer-down')!.facts.newcomer_blocks).toBe(0);
		const fir = nodes.get('Fir')!;
		expect(fir.status).toBe('online');
		for (const node of demo.alive()) expect(vv(demo, node.name)).toBe(vv(demo, 'Fir'));
		expect(fir.ledger.size).toBe(nodes.get('Alder')!.ledger.size);
	}, 60_000);

	it.each([3, 8])(
		'the script holds with %i clinics too',
		async (count) => {
			demo = await DemoNetwork.start({ verifier: testVerifier(), nodes: count });
			const memory: ScriptMemory = {};
			for (const step of STEPS) {
				const outcome = await step.run(demo, memory);
				for (const check of outcome.checks) expect(check.ok, `${count} clinics, ${step.id}: ${check.label}`).toBe(true);
			}
			expect(demo.nodes.size).toBe(count + 1);
			const sizes = new Set(demo.alive().map((n) => n.ledger.size));
			expect(sizes.size).toBe(1);
		},
		60_000
	);

	it('new clinics cannot join while the introducer is away, and join when it returns', async () => {
		demo = await DemoNetwork.start({ verifier: testVerifier(), nodes: 3 });
		demo.setIntroducer(false);
		const { name, introduced } = await demo.addClinic('Alder');
		expect(introduced).toBe(false);
		// What 300 ms of the demo would do, on a faked clock: three rounds of its 100-ms
		// repair tick at every node, each round's frames delivered before the next.
		vi.useFakeTimers({ toFake: ['Date'] });
		try {
			for (let round = 0; round < 3; round++) {
				vi.advanceTimersByTime(100);
				for (const node of demo.nodes.values()) node.replicator.tick();
				for (let i = 0; i < 50; i++) await new Promise<void>((r) => setImmediate(r));
			}
		} finally {
			vi.useRealTimers();
		}
		expect(demo.nodes.get(name)!.ledger.size).toBe(0);
		expect(demo.nodes.get(name)!.status).toBe('waiting');
		demo.setIntroducer(true);
		await demo.converged();
		expect(demo.nodes.get(name)!.ledger.size).toBe(demo.nodes.get('Alder')!.ledger.size);
	});
});
