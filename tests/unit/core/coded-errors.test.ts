/**
 * Every refusal of input from a person or a peer is a CodedError with a stable code, so the
 * UI (describeError) and callers branch on the code, never on the wording. One case per
 * error class, each raised by the real refusal it stands for.
 */
import { describe, expect, it } from 'vitest';
import { CodedError, Ledger, MemoryStore, decodeMessage, describeError, memoryLinkPair } from '../../../src/lib/core/index.js';
import { testSigner } from '../../../src/lib/core/testing/fixtures.js';
import { compileRule } from '../../../src/lib/domain/contracts/rule-logic.js';
import { parseNetworkLink } from '../../../src/lib/domain/network-link.js';
import { parseBackup } from '../../../src/lib/domain/key-backup.js';
import { checkEncryptedKey } from '../../../src/lib/domain/keystore.js';
import { checkNetworkConfig } from '../../../src/lib/domain/network-config.js';
import { newDataKey, openRecord, sealRecord } from '../../../src/lib/domain/privacy/envelope.js';
import { readCard } from '../../../src/lib/domain/records/card.js';
import { noisyCount } from '../../../src/lib/domain/research/laplace.js';
import { parseQuerySpec } from '../../../src/lib/domain/research/spec.js';
import { parseGs1 } from '../../../src/lib/domain/supply/gs1.js';

function codeOf(run: () => unknown): string {
	try {
		run();
	} catch (error) {
		expect(error).toBeInstanceOf(CodedError);
		expect(describeError(error)).toBe((error as Error).message);
		return (error as CodedError).code;
	}
	throw new Error('expected a refusal');
}

async function asyncCodeOf(run: () => Promise<unknown>): Promise<string> {
	try {
		await run();
	} catch (error) {
		expect(error).toBeInstanceOf(CodedError);
		return (error as CodedError).code;
	}
	throw new Error('expected a refusal');
}

describe('coded errors', () => {
	it('domain input refusals carry their class code', () => {
		expect(codeOf(() => parseGs1('(01)123'))).toBe('GS1_INVALID');
		expect(codeOf(() => parseNetworkLink('#network=%%%'))).toBe('INVITE_INVALID');
		expect(codeOf(() => readCard('not a card'))).toBe('CARD_INVALID');
		expect(codeOf(() => parseQuerySpec('{'))).toBe('RESEARCH_INPUT_INVALID');
		expect(codeOf(() => noisyCount({ next: () => 0.5 }, 3, 0))).toBe('RESEARCH_INPUT_INVALID');
		expect(codeOf(() => checkNetworkConfig(null))).toBe('NETWORK_SETTINGS_INVALID');
		expect(codeOf(() => compileRule({ nope: [1] }, 'rules[0]'))).toMatch(/^RULE_/);
		expect(codeOf(() => parseBackup('{}'))).toBe('NOT_A_BACKUP');
		expect(codeOf(() => checkEncryptedKey(null))).toMatch(/^[A-Z_]+$/);
		const context = { net: 'n', patient: 'p', category: 'labs', epoch: 0 } as const;
		const sealed = sealRecord(newDataKey(), new Uint8Array([1, 2, 3]), context);
		expect(codeOf(() => openRecord(newDataKey(), sealed, context))).toBe('ENVELOPE_INVALID');
	});

	it('a malformed sync frame is a ProtocolError with code PROTOCOL_VIOLATION', () => {
		expect(codeOf(() => decodeMessage(new Uint8Array([0xff, 0x00])))).toBe('PROTOCOL_VIOLATION');
	});

	it('the ledger refuses an unusable store with a code', async () => {
		expect(await asyncCodeOf(() => Ledger.open({ store: new MemoryStore() }))).toBe('STORE_NO_NETWORK');
		const store = new MemoryStore();
		await Ledger.create({ store, signer: testSigner('founder'), genesis: { name: 'Clinic' } });
		expect(await asyncCodeOf(() => Ledger.create({ store, signer: testSigner('founder'), genesis: { name: 'Clinic' } }))).toBe(
			'STORE_NOT_EMPTY'
		);
		const reader = await Ledger.open({ store });
		const other = await Ledger.create({ store: new MemoryStore(), signer: testSigner('other'), genesis: { name: 'Other' } });
		expect(await asyncCodeOf(() => Ledger.open({ store, net: other.net }))).toBe('STORE_OTHER_NETWORK');
		expect(await asyncCodeOf(() => reader.append([{ t: 'note', text: 'x' }]))).toBe('NO_SIGNING_KEY');
	});

	it('stores and links refuse misuse with a code', async () => {
		const store = new MemoryStore();
		const ledger = await Ledger.create({ store, signer: testSigner('founder'), genesis: { name: 'Clinic' } });
		const [genesis] = await store.ordered(null, 1);
		expect(await asyncCodeOf(() => store.append([genesis!]))).toBe('STORE_DUPLICATE_BLOCK');
		await ledger.close();
		const closed = new MemoryStore();
		await closed.close();
		expect(await asyncCodeOf(() => closed.append([genesis!]))).toBe('STORE_CLOSED');
		const [a] = memoryLinkPair();
		a.close();
		expect(codeOf(() => a.send(new Uint8Array([1])))).toBe('LINK_CLOSED');
	});

	it('a handshake of another network, or one that does not name this node, is refused with a code', async () => {
		const founder = await Ledger.create({ store: new MemoryStore(), signer: testSigner('founder'), genesis: { name: 'Clinic' } });
		const other = await Ledger.create({ store: new MemoryStore(), signer: testSigner('other'), genesis: { name: 'Other' } });
		const nonce = new Uint8Array(32);
		const mine = { author: founder.author!, nonce };
		const theirs = { author: other.author!, nonce };
		const parties = [mine, theirs] as const;
		expect(await asyncCodeOf(() => founder.signChallenge({ net: other.net, parties }))).toBe('HANDSHAKE_OTHER_NETWORK');
		expect(await asyncCodeOf(() => founder.signChallenge({ net: founder.net, parties: [theirs, theirs] }))).toBe(
			'HANDSHAKE_NOT_FOR_THIS_NODE'
		);
		// The same transcript naming this node is signed.
		expect((await founder.signChallenge({ net: founder.net, parties })).length).toBe(64);
	});
});
