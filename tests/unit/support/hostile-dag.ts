/**
 * A seeded multi-author DAG with every membership hazard the convergence rules must
 * settle: adds, a partitioned member revoked while still writing (and forking below its
 * cut-off), a revocation concurrent with the member's own writes, two admins revoking each
 * other while one also adds a member, an admin demoted while it adds an accomplice, and an
 * equivocating member whose two versions honest members build on.
 */
import { publicKeyOf } from '../../../src/lib/core/crypto/ed25519.js';
import { toHex } from '../../../src/lib/core/bytes.js';
import type { Ledger } from '../../../src/lib/core/ledger.js';
import type { AuthorId, BlockId, Tx } from '../../../src/lib/core/types.js';
import {
	authorOf,
	foundNetwork,
	joinNetwork,
	makeBlock,
	syncInto,
	testSecret,
	testSigner
} from '../../../src/lib/core/testing/fixtures.js';
import { APP_RULES } from '../../../src/lib/domain/rule-registry.js';
import { prng } from '../../../src/lib/core/testing/prng.js';

export { prng };

import { memoVerifier } from '../../../src/lib/core/testing/memo-verifier.js';

export { memoVerifier };

const key = (label: string) => publicKeyOf(testSecret(label));
const note = (text: string): Tx[] => [{ t: 'note', text }];

export interface HostileDag {
	net: BlockId;
	/** Every block any writer made (both versions of each equivocation included). */
	blocks: Uint8Array[];
	/** Named blocks and authors the assertions look at. */
	named: {
		partitionedAfterCut: BlockId[];
		concurrentAfterCut: BlockId[];
		accomplice: AuthorId;
		accompliceAdd: BlockId;
		forks: BlockId[];
		belowCutFork: BlockId;
		revocationOfPartitioned: BlockId;
	};
}

/** Builds the DAG. `rounds` of random notes and partial syncs between the scripted hazards. */
export async function buildHostileDag(seed: number, rounds = 30): Promise<HostileDag> {
	const random = prng(seed);
	const verifier = memoVerifier();
	const labels = ['admin2', 'admin3', 'admin4', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'desk'];
	const roles: Record<string, string> = {
		admin2: 'admin',
		admin3: 'admin',
		admin4: 'admin',
		c1: 'clinician',
		c2: 'clinician',
		c3: 'clinician',
		c4: 'clinician',
		c5: 'clinician',
		c6: 'clinician',
		desk: 'front-desk'
	};
	const founder = await foundNetwork({ members: roles, rules: APP_RULES, verifier });
	const nodes = new Map<string, Ledger>([['founder', founder]]);
	for (const label of labels) {
		const node = await joinNetwork(founder.net, label, { rules: APP_RULES, verifier });
		await syncInto(node, founder);
		nodes.set(label, node);
	}
	for (const label of ['e1', 'x1']) nodes.set(label, await joinNetwork(founder.net, label, { rules: APP_RULES, verifier }));
	const node = (label: string) => nodes.get(label)!;
	const extra: Uint8Array[] = [];
	const chatter = async (who: string[], n: number) => {
		for (let i = 0; i < n; i++) {
			const a = who[Math.floor(random() * who.length)]!;
			const b = who[Math.floor(random() * who.length)]!;
			if (random() < 0.5 && a !== b) await syncInto(node(a), node(b));
			else
				await node(a)
					.append(note(`${a} ${seed}/${i}`))
					.catch(() => undefined);
		}
	};
	const everyone = ['founder', ...labels];
	await chatter(everyone, rounds * 8);

	// A partitioned member keeps writing while the founder revokes it; c2 builds on its later blocks.
	await syncInto(node('founder'), node('c1'));
	const revocation = await node('founder').append([{ t: 'member.revoke', key: key('c1') }]);
	const partitionedAfterCut: BlockId[] = [];
	for (let i = 0; i < 3; i++) partitionedAfterCut.push((await node('c1').append(note(`c1 partitioned ${i}`))).id);
	await syncInto(node('c2'), node('c1'));
	await node('c2').append(note('c2 on c1'));
	// ...and forks below its cut-off: a second version of its block at the cut-off seq.
	const cut = founder.revocations().get(authorOf('c1'))!;
	const atCut = (await node('c1').store.at(authorOf('c1'), cut))!;
	const original = (await import('../../../src/lib/core/block.js')).decodeBlock(atCut.bytes);
	const belowCut = await makeBlock(testSigner('c1'), {
		net: founder.net,
		seq: original.seq,
		prev: original.prev,
		deps: original.deps,
		clock: original.clock,
		txs: note('c1 backdated fork')
	});
	extra.push(belowCut.bytes);

	// A revocation concurrent with the member's own writes.
	const concurrentAfterCut: BlockId[] = [];
	await node('admin2').append([{ t: 'member.revoke', key: key('c3') }]);
	for (let i = 0; i < 2; i++) concurrentAfterCut.push((await node('c3').append(note(`c3 concurrent ${i}`))).id);

	// Two admins revoke each other; one of them also adds a member, who writes.
	await syncInto(node('admin2'), node('admin3'));
	await syncInto(node('admin3'), node('admin2'));
	await node('admin2').append([{ t: 'member.revoke', key: key('admin3') }]);
	await node('admin3').append([{ t: 'member.revoke', key: key('admin2') }]);
	await node('admin3').append([{ t: 'member.add', key: key('e1'), role: 'clinician' }]);
	await syncInto(node('e1'), node('admin3'));
	await node('e1').append(note('e1 writes'));

	// An admin demoted while, unaware, it adds an accomplice as admin, who writes.
	await syncInto(node('founder'), node('admin4'));
	await node('founder').append([{ t: 'member.role', key: key('admin4'), role: 'clinician' }]);
	const accompliceAdd = await node('admin4').append([{ t: 'member.add', key: key('x1'), role: 'admin' }]);
	await syncInto(node('x1'), node('admin4'));
	await node('x1').append(note('x1 writes'));

	// An equivocating member: two versions at one seq, each built on by an honest member.
	const c5 = node('c5');
	const first = await c5.append(note('c5 version one'));
	const twin = await makeBlock(testSigner('c5'), {
		net: founder.net,
		seq: first.seq,
		prev: first.prev,
		deps: first.deps,
		clock: first.clock,
		txs: note('c5 version two')
	});
	await syncInto(node('c6'), c5);
	await node('c6').append(note('c6 on version one'));
	await node('c4').receive([twin.bytes]);
	await syncInto(node('c4'), c5); // c4 holds version two first; version one arrives as the fork
	await node('c4').append(note('c4 on both'));
	extra.push(twin.bytes);

	await chatter(
		everyone.filter((l) => l !== 'c1'),
		rounds * 4
	);

	const byId = new Map<string, Uint8Array>();
	for (const n of nodes.values()) {
		for await (const b of n.blocksSince({})) byId.set(toHex(b.subarray(3, 35)), b);
	}
	for (const b of extra) byId.set(toHex(b.subarray(3, 35)), b);
	return {
		net: founder.net,
		blocks: [...byId.values()],
		named: {
			partitionedAfterCut,
			concurrentAfterCut,
			accomplice: authorOf('x1'),
			accompliceAdd: accompliceAdd.id,
			forks: [first.id, twin.id],
			belowCutFork: belowCut.id,
			revocationOfPartitioned: revocation.id
		}
	};
}
