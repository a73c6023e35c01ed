/**
 * The guided demo: a fixed sequence of steps run on a {@link DemoNetwork}. Each step does
 * something to the network, then reads back from the nodes' own ledgers whether what it
 * claims is true (the checks), and says in plain words what happened and why it matters.
 * The words are built from what was measured, never written in advance.
 */
import { CodedError, toHex, type Block, type BlockId } from '$lib/core/index.js';
import { DemoNetwork, type DemoNode } from './network.js';
import { forgeBlock } from './forgery.js';

export interface Check {
	readonly label: string;
	readonly ok: boolean;
}

export interface StepOutcome {
	/** One or two plain sentences: what happened and why it matters. */
	readonly said: string;
	readonly checks: readonly Check[];
	/** Figures the view and the tests read (times, counts, codes). */
	readonly facts: Readonly<Record<string, string | number | boolean | readonly string[]>>;
}

export interface Step {
	readonly id: string;
	readonly title: string;
	/** Label of the button that runs it. */
	readonly action: string;
	run(demo: DemoNetwork, memory: ScriptMemory): Promise<StepOutcome>;
}

/** What earlier steps leave for later ones. */
export interface ScriptMemory {
	firstWrites?: Block[];
	offline?: { name: string; written: Block[]; others: Block[] };
}

// Upper bounds only: steps finish in tens of milliseconds, but a busy machine can be much slower.
const WAIT_MS = 15_000;
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `ready` until true, or throws after {@link WAIT_MS}. */
async function until(ready: () => boolean | Promise<boolean>, what: string): Promise<void> {
	const started = performance.now();
	while (!(await ready())) {
		if (performance.now() - started > WAIT_MS) throw new CodedError('DEMO_TIMED_OUT', `timed out waiting until ${what}`);
		await pause(5);
	}
}

/** Nodes holding every one of `ids`. */
async function holders(nodes: readonly DemoNode[], ids: readonly BlockId[]): Promise<DemoNode[]> {
	const out: DemoNode[] = [];
	for (const node of nodes) {
		const rows = await node.ledger.store.getMany(ids);
		if (rows.every((r) => r !== undefined)) out.push(node);
	}
	return out;
}

const online = (demo: DemoNetwork) => demo.alive().filter((n) => n.status === 'online');
const authorOf = (node: DemoNode) => toHex(node.signer.publicKey);

/** The node that plays the compromised clinic: the last of the founding nodes. */
export function villainOf(demo: DemoNetwork): DemoNode {
	const founding = [...demo.nodes.values()];
	return founding[Math.min(4, founding.length - 1)]!;
}

export const STEPS: readonly Step[] = [
	{
		id: 'writes',
		title: 'Every clinic writes',
		action: 'Each clinic writes an entry',
		async run(demo, memory) {
			const nodes = online(demo);
			const written = await Promise.all(nodes.map((n) => demo.write(n.name, `Visit recorded at ${n.name}`)));
			memory.firstWrites = written;
			const ms = await demo.converged(WAIT_MS);
			const all = await holders(
				nodes,
				written.map((b) => b.id)
			);
			return {
				said: `${nodes.length} clinics each signed one entry; within ${Math.round(ms)} ms every clinic held all ${written.length}. There is no central copy: each clinic keeps the whole ledger and checks every block itself.`,
				checks: [{ label: `all ${nodes.length} clinics hold all ${written.length} new entries`, ok: all.length === nodes.length }],
				facts: { converge_ms: Math.round(ms), entries: written.length, holders: all.length }
			};
		}
	},
	{
		id: 'offline',
		title: 'A clinic loses its connection',
		action: 'Take a clinic offline and keep writing',
		async run(demo, memory) {
			const nodes = online(demo);
			const away = nodes[2 % nodes.length]!;
			demo.goOffline(away.name);
			const written: Block[] = [];
			for (let i = 1; i <= 3; i++) written.push(await demo.write(away.name, `Offline entry ${i} at ${away.name}`));
			const others: Block[] = [];
			for (const n of nodes.filter((n) => n !== away).slice(0, 2))
				others.push(await demo.write(n.name, `Entry at ${n.name} while ${away.name} is away`));
			const rest = nodes.filter((n) => n !== away);
			await demo.converged(WAIT_MS, rest);
			const seenElsewhere = (
				await Promise.all(rest.map(async (n) => (await n.ledger.store.getMany(written.map((b) => b.id))).some(Boolean)))
			).some(Boolean);
			memory.offline = { name: away.name, written, others };
			return {
				said: `${away.name} lost its network but kept working: it wrote ${written.length} entries on its own copy while the others wrote ${others.length}. Nothing waits for a server; the copies differ for now.`,
				checks: [
					{ label: `${away.name} has no links`, ok: away.links.size === 0 },
					{ label: `no other clinic has ${away.name}'s offline entries yet`, ok: !seenElsewhere }
				],
				facts: { offline: away.name, written_offline: written.length, written_others: others.length }
			};
		}
	},
	{
		id: 'heal',
		title: 'It comes back and merges',
		action: 'Bring the clinic back',
		async run(demo, memory) {
			const offline = memory.offline;
			if (!offline) throw new CodedError('DEMO_STEP_ORDER', 'run the offline step first');
			const started = performance.now();
			demo.comeOnline(offline.name);
			await demo.converged(WAIT_MS);
			const ms = performance.now() - started;
			const nodes = online(demo);
			const ids = [...offline.written, ...offline.others].map((b) => b.id);
			const all = await holders(nodes, ids);
			const prints = new Set((await demo.view()).nodes.filter((n) => n.status === 'online').map((n) => n.fingerprint));
			return {
				said: `${offline.name} reconnected and the copies merged in ${Math.round(ms)} ms: every clinic now holds all ${ids.length} entries, in the same order. Both sides' work survives; nobody had to pick a winner.`,
				checks: [
					{ label: `all ${nodes.length} clinics hold the ${ids.length} entries written apart`, ok: all.length === nodes.length },
					{ label: 'every copy has the same fingerprint', ok: prints.size === 1 }
				],
				facts: { converge_ms: Math.round(ms), merged: ids.length, fingerprints: prints.size }
			};
		}
	},
	{
		id: 'tamper',
		title: 'A clinic rewrites the past',
		action: 'Let a compromised clinic rewrite a past entry',
		async run(demo, memory) {
			const villain = villainOf(demo);
			const victim = memory.firstWrites?.find((b) => b.author !== authorOf(villain));
			if (!victim) throw new CodedError('DEMO_STEP_ORDER', 'run the first step first');
			const forged = forgeBlock(victim, `${victim.txs[0]?.text ?? 'entry'} (amended: dose 50 ml)`);
			const honest = online(demo).filter((n) => n !== villain);
			const before = new Map(honest.map((n) => [n.name, n.refusals.length]));
			const targets = demo.sendRaw(villain.name, [forged.badHash, forged.badSignature]);
			const fresh = (n: DemoNode) => n.refusals.slice(before.get(n.name)).filter((r) => r.from === villain.name);
			await until(() => honest.every((n) => fresh(n).length >= 2), 'every honest clinic judged both forgeries');
			const codes = new Set(honest.flatMap((n) => fresh(n).map((r) => r.code)));
			const kept = await Promise.all(honest.map(async (n) => (await n.ledger.store.get(victim.id))?.bytes));
			const intact = kept.every((b) => b !== undefined && toHex(b) === toHex(victim.bytes));
			const victimName = demo.nameOf(victim.author) ?? 'another clinic';
			return {
				said: `${villain.name} sent two rewritten copies of ${victimName}'s entry: every other clinic refused them, one for BAD_HASH (the content no longer matches its id) and one for BAD_SIGNATURE (only ${victimName}'s key could sign the new content), and flagged ${villain.name}. The original stays untouched everywhere.`,
				checks: [
					{ label: `sent to ${targets.length} clinics`, ok: targets.length === honest.length },
					{
						label: 'every honest clinic refused one copy with BAD_HASH',
						ok: honest.every((n) => fresh(n).some((r) => r.code === 'BAD_HASH'))
					},
					{
						label: 'every honest clinic refused one copy with BAD_SIGNATURE',
						ok: honest.every((n) => fresh(n).some((r) => r.code === 'BAD_SIGNATURE'))
					},
					{ label: `every honest clinic flags ${villain.name}`, ok: honest.every((n) => fresh(n).length > 0) },
					{ label: 'the original entry is unchanged at every clinic', ok: intact }
				],
				facts: { villain: villain.name, victim: victim.id, codes: [...codes].sort(), refused_at: honest.map((n) => n.name) }
			};
		}
	},
	{
		id: 'equivocate',
		title: 'A clinic signs two versions',
		action: 'Let it sign two different blocks at one position',
		async run(demo) {
			const villain = villainOf(demo);
			await demo.write(villain.name, `Prescription at ${villain.name}: 5 ml`);
			await demo.converged(WAIT_MS);
			const { original, twin } = await demo.equivocate(villain.name, `Prescription at ${villain.name}: 50 ml`);
			const honest = online(demo).filter((n) => n !== villain);
			demo.sendRaw(villain.name, [twin.bytes]);
			const pair = [original.id, twin.id].sort().join();
			const caught = async (n: DemoNode) => (await n.ledger.evidence()).some((e) => [e.id, e.conflictsWith].sort().join() === pair);
			await until(async () => (await Promise.all(honest.map(caught))).every(Boolean), 'every honest clinic kept the evidence');
			const flagged = honest.every((n) => n.ledger.flaggedAuthors().includes(twin.author));
			const voided = honest.every((n) => n.ledger.voidReason(original.id) !== undefined && n.ledger.voidReason(twin.id) !== undefined);
			return {
				said: `${villain.name} signed two different blocks as its entry number ${twin.seq}. Each is validly signed, so each clinic kept both as EQUIVOCATION evidence and flagged ${villain.name}: a signed, undeniable proof of cheating. Neither version counts, nor anything ${villain.name} signs after them, on every clinic whichever version it saw first, so the clinics cannot be split.`,
				checks: [
					{ label: 'every honest clinic keeps both versions without effect (void)', ok: voided },
					{ label: 'every honest clinic holds evidence naming both block ids', ok: (await Promise.all(honest.map(caught))).every(Boolean) },
					{ label: `every honest clinic flags ${villain.name}'s key`, ok: flagged }
				],
				facts: { villain: villain.name, seq: twin.seq, original: original.id, twin: twin.id }
			};
		}
	},
	{
		id: 'destroy',
		title: 'A clinic is destroyed',
		action: 'Destroy a clinic',
		async run(demo) {
			const nodes = online(demo);
			const doomed = nodes[1]!;
			await demo.write(doomed.name, `Last entry written at ${doomed.name}`);
			await demo.converged(WAIT_MS);
			const held: BlockId[] = [];
			for await (const block of doomed.ledger.blocks()) held.push(block.id);
			demo.destroy(doomed.name);
			const survivors = online(demo);
			let lost = 0;
			for (const node of survivors) {
				const rows = await node.ledger.store.getMany(held);
				lost += rows.filter((r) => r === undefined).length;
			}
			return {
				said: `${doomed.name} is gone with its copy of ${held.length} blocks, yet nothing is lost: each of the ${survivors.length} other clinics still holds every one of them. No single machine is the ledger.`,
				checks: [
					{ label: `${doomed.name} no longer takes part`, ok: doomed.status === 'destroyed' && doomed.links.size === 0 },
					{ label: `every survivor holds all ${held.length} blocks ${doomed.name} had`, ok: lost === 0 }
				],
				facts: { destroyed: doomed.name, blocks: held.length, survivors: survivors.length, lost }
			};
		}
	},
	{
		id: 'introducer-down',
		title: 'The introducer goes away',
		action: 'Stop the introducer (signaling)',
		async run(demo) {
			demo.setIntroducer(false);
			const nodes = online(demo);
			const entry = await demo.write(nodes[0]!.name, `Entry at ${nodes[0]!.name} with the introducer down`);
			await demo.converged(WAIT_MS, nodes);
			const all = await holders(nodes, [entry.id]);
			const { name, introduced } = await demo.addClinic(nodes[0]!.name);
			const newcomer = demo.nodes.get(name)!;
			return {
				said: `With the introducer gone, the ${nodes.length} connected clinics kept syncing directly (${all.length} of ${nodes.length} got the new entry). ${name} Clinic, just added as a member, cannot find anyone to connect to until the introducer returns.`,
				checks: [
					{ label: `all ${nodes.length} connected clinics got the new entry`, ok: all.length === nodes.length },
					{ label: `${name} could not be introduced`, ok: !introduced && newcomer.links.size === 0 },
					{ label: `${name} holds no blocks yet`, ok: newcomer.ledger.size === 0 }
				],
				facts: { newcomer: name, connected: nodes.length, newcomer_blocks: newcomer.ledger.size }
			};
		}
	},
	{
		id: 'introducer-back',
		title: 'The introducer returns',
		action: 'Restart the introducer',
		async run(demo) {
			const started = performance.now();
			demo.setIntroducer(true);
			await demo.converged(WAIT_MS);
			const ms = performance.now() - started;
			const nodes = online(demo);
			const newcomer = [...demo.nodes.values()].at(-1)!;
			const prints = new Set((await demo.view()).nodes.filter((n) => n.status === 'online').map((n) => n.fingerprint));
			return {
				said: `The introducer is back: ${newcomer.name} Clinic was introduced to ${newcomer.links.size} clinics and caught up with all ${newcomer.ledger.size} blocks in ${Math.round(ms)} ms. The introducer only introduces; it never held a record.`,
				checks: [
					{ label: `${newcomer.name} is connected`, ok: newcomer.status === 'online' && newcomer.links.size > 0 },
					{ label: `${newcomer.name} holds the same ledger as everyone`, ok: prints.size === 1 && nodes.includes(newcomer) }
				],
				facts: { newcomer: newcomer.name, converge_ms: Math.round(ms), blocks: newcomer.ledger.size, fingerprints: prints.size }
			};
		}
	}
];
