/**
 * The peer's FHIR REST API, driven by a real FHIR client library (fhir-kit-client) over
 * HTTP on 127.0.0.1: push a Synthea transaction, read, vread and search it back, see it
 * reach the clinic's browser node over sync; refusals as OperationOutcomes; a relay peer
 * without the clinic's grants holds ciphertext only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'fhir-kit-client';
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { authorOf, foundNetwork, joinNetwork, syncInto, testSecret } from '$lib/core/testing/fixtures.js';
import { fromHex, publicKeyOf, toHex, type Ledger } from '$lib/core/index.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { encryptionSecretKey } from '$lib/domain/privacy/envelope.js';
import { RecordBook } from '$lib/domain/records/book.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import { serveFhir, type FhirServer } from '../../../../peer/fhir-server.js';
import { PENDING_KEYS_META } from '$lib/domain/records/fhir-api.js';
import { parsePeerArgs, UsageError, type PeerOptions } from '../../../../peer/options.js';
import { networkLinkUrl } from '$lib/domain/network-link.js';
import { syntheaBundles } from './fhir-samples.js';

const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
const keyringOf = (label: string) => new Keyring(authorOf(label), encryptionSecretKey(testSecret(label)));
type HttpError = Error & { response: { status: number; data: OperationOutcome } };

async function refusal(request: Promise<unknown>): Promise<{ status: number; body: OperationOutcome }> {
	const error = (await request.then(
		() => null,
		(e: HttpError) => e
	)) as HttpError | null;
	expect(error, 'the request should have been refused').not.toBeNull();
	return { status: error!.response.status, body: error!.response.data };
}

describe('FHIR REST API of the headless peer', { timeout: 60_000 }, () => {
	let clinic: Ledger;
	let peer: Ledger;
	let relay: Ledger;
	let server: FhirServer;
	let relayServer: FhirServer;
	let client: Client;
	const synthea = syntheaBundles().find((s) => s.name.startsWith('Carroll'))!;
	const source = JSON.parse(synthea.text) as Bundle;

	beforeAll(async () => {
		clinic = await foundNetwork({ ...options, founder: 'clinic-a' });
		// The peer is one of the clinic's devices; the relay is a plain peer.
		await clinic.append([
			{ t: 'member.add', key: fromHex(authorOf('peer')), role: 'clinician', clinic: fromHex(authorOf('clinic-a')) },
			{ t: 'member.add', key: fromHex(authorOf('relay')), role: 'peer' }
		]);
		peer = await joinNetwork(clinic.net, 'peer', options);
		relay = await joinNetwork(clinic.net, 'relay', options);
		await syncInto(peer, clinic);
		await syncInto(relay, clinic);
		server = await serveFhir({ ledger: peer, keyring: keyringOf('peer'), host: '127.0.0.1', port: 0 });
		relayServer = await serveFhir({ ledger: relay, keyring: keyringOf('relay'), host: '127.0.0.1', port: 0 });
		client = new Client({ baseUrl: server.url, bearerToken: server.token });
	});
	afterAll(async () => {
		await server?.close();
		await relayServer?.close();
	});

	it('binds to 127.0.0.1 and refuses requests without the bearer token', async () => {
		expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/fhir$/);
		expect(server.token.length).toBeGreaterThanOrEqual(40);
		const anonymous = new Client({ baseUrl: server.url });
		const wrong = new Client({ baseUrl: server.url, bearerToken: `${server.token.slice(0, -1)}x` });
		for (const c of [anonymous, wrong]) {
			const { status, body } = await refusal(c.read({ resourceType: 'Patient', id: 'x'.repeat(64) }));
			expect(status).toBe(401);
			expect(body.resourceType).toBe('OperationOutcome');
		}
	});

	it('serves a CapabilityStatement', async () => {
		const capability = (await client.capabilityStatement()) as {
			resourceType: string;
			fhirVersion: string;
			rest: { resource: { type: string }[]; interaction: { code: string }[] }[];
		};
		expect(capability.resourceType).toBe('CapabilityStatement');
		expect(capability.fhirVersion).toBe('4.0.1');
		expect(capability.rest[0]!.resource.map((r) => r.type)).toEqual(
			expect.arrayContaining(['Patient', 'Observation', 'Claim', 'Organization'])
		);
		expect(capability.rest[0]!.interaction.map((i) => i.code)).toContain('transaction');
	});

	let patient = '';
	it('takes a Synthea transaction whole, and it reaches the clinic over sync', async () => {
		const response = (await client.transaction({ body: source as never })) as unknown as Bundle;
		expect(response.type).toBe('transaction-response');
		expect(response.entry).toHaveLength(source.entry!.length);
		expect(
			response.entry!.every(
				(e) => e.response!.status === '201 Created' && /^[A-Za-z]+\/[0-9a-f]+\/_history\/1$/.test(e.response!.location!)
			)
		).toBe(true);
		const patientLocation = response.entry![source.entry!.findIndex((e) => e.resource!.resourceType === 'Patient')]!.response!.location!;
		patient = patientLocation.split('/')[1]!;
		// The new patient's key is kept, wrapped for this node, until the card is printed.
		const kept = await peer.store.getMeta<Record<string, Record<string, string>>>(PENDING_KEYS_META);
		expect(Object.keys(kept!)).toEqual([patient]);
		const wrap = kept![patient]!;
		const seed = keyringOf('peer').unwrapForSelf(peer.net, patient, {
			eph: fromHex(wrap.eph!),
			nonce: fromHex(wrap.nonce!),
			wrapped: fromHex(wrap.wrapped!)
		});
		expect(toHex(publicKeyOf(seed))).toBe(patient);

		await syncInto(clinic, peer);
		const { records } = await new RecordBook(clinic, keyringOf('clinic-a')).chart(patient);
		expect(records.filter((r) => r.versions.at(-1)!.resource)).toHaveLength(
			source.entry!.filter((e) => !['Organization', 'Practitioner'].includes(e.resource!.resourceType)).length
		);
	});

	it('reads, vreads and searches what was posted', async () => {
		const read = (await client.read({ resourceType: 'Patient', id: patient })) as unknown as Patient;
		const original = source.entry!.find((e) => e.resource!.resourceType === 'Patient')!.resource as Patient;
		expect(read.name).toEqual(original.name);
		expect(read.meta?.versionId).toBe('1');
		const vread = (await client.vread({ resourceType: 'Patient', id: patient, version: '1' })) as unknown as Patient;
		expect(vread.name).toEqual(original.name);

		const all = (await client.search({
			resourceType: 'Observation',
			searchParams: { patient: `Patient/${patient}` }
		})) as unknown as Bundle;
		expect(all.total).toBe(source.entry!.filter((e) => e.resource!.resourceType === 'Observation').length);
		const height = (await client.search({
			resourceType: 'Observation',
			searchParams: { patient, code: 'http://loinc.org|8302-2' }
		})) as unknown as Bundle;
		const heights = source.entry!.filter(
			(e) =>
				e.resource!.resourceType === 'Observation' &&
				(e.resource as { code: { coding: { code: string }[] } }).code.coding.some((c) => c.code === '8302-2')
		);
		expect(height.total).toBe(heights.length);
		expect(height.total).toBeGreaterThan(0);
		const since = (await client.search({
			resourceType: 'Encounter',
			searchParams: { patient, date: 'ge2015-01-01' }
		})) as unknown as Bundle;
		const encounters = source.entry!.filter((e) => e.resource!.resourceType === 'Encounter');
		const later = encounters.filter((e) => (e.resource as { period: { start: string } }).period.start >= '2015-01-01');
		expect(since.total).toBe(later.length);
		// Every reference in what is read back names something this server returns.
		const first = all.entry![0]!.resource as { encounter?: { reference: string } };
		const [type, id] = first.encounter!.reference.split('/');
		expect(((await client.read({ resourceType: type!, id: id! })) as { resourceType: string }).resourceType).toBe('Encounter');
		const organizations = (await client.search({ resourceType: 'Organization' })) as unknown as Bundle;
		expect(organizations.total).toBe(source.entry!.filter((e) => e.resource!.resourceType === 'Organization').length);
	});

	it('the same transaction again changes nothing', async () => {
		const size = peer.size;
		const response = (await client.transaction({ body: source as never })) as unknown as Bundle;
		expect(response.entry!.every((e) => e.response!.status === '200 OK')).toBe(true);
		await server.api.flushReads();
		// Only the access log of the reads above was added.
		const added = peer.size - size;
		expect(added).toBeLessThanOrEqual(1);
	});

	it('a changed resource in the transaction is amended: its location names version 2, the others stay at 1', async () => {
		const changed = structuredClone(source);
		const at = changed.entry!.findIndex((e) => e.resource!.resourceType === 'Observation');
		(changed.entry![at]!.resource as { status: string }).status = 'amended';
		const response = (await client.transaction({ body: changed as never })) as unknown as Bundle;
		expect(response.entry![at]!.response!.status).toBe('200 OK');
		expect(response.entry![at]!.response!.location).toMatch(/^Observation\/[0-9a-f]{32}\/_history\/2$/);
		const others = response.entry!.filter((_, i) => i !== at && changed.entry![i]!.resource!.resourceType !== 'Provenance');
		expect(others.every((e) => /\/_history\/1$/.test(e.response!.location!))).toBe(true);
	});

	it('refuses an invalid Bundle with an OperationOutcome naming each path, and writes nothing', async () => {
		const broken = JSON.parse(synthea.text) as Bundle;
		(broken.entry![1]!.resource as unknown as Record<string, unknown>).colour = 'red';
		broken.entry![2]!.request = { method: 'DELETE', url: 'Observation/1' } as never;
		const size = peer.size;
		const { status, body } = await refusal(client.transaction({ body: broken as never }));
		expect(status).toBe(400);
		expect(body.issue.map((i) => i.expression?.[0])).toEqual(
			expect.arrayContaining(['$.entry[1].resource.colour', '$.entry[2].request.method'])
		);
		expect(peer.size).toBe(size);
		const missing = await refusal(client.read({ resourceType: 'Observation', id: '0'.repeat(32) }));
		expect(missing.status).toBe(404);
		expect(missing.body.resourceType).toBe('OperationOutcome');
	});

	it('a relay peer without the clinic’s grants holds ciphertext only: reads and writes are refused', async () => {
		await syncInto(relay, peer);
		const relayClient = new Client({ baseUrl: relayServer.url, bearerToken: relayServer.token });
		const read = await refusal(relayClient.read({ resourceType: 'Patient', id: patient }));
		expect(read.status).toBe(403);
		const search = (await relayClient.search({ resourceType: 'Observation', searchParams: { patient } })) as unknown as Bundle;
		expect(search.total).toBe(0);
		const size = relay.size;
		const other = syntheaBundles().find((s) => s.name.startsWith('Gabriele'))!;
		const write = await refusal(relayClient.transaction({ body: JSON.parse(other.text) }));
		expect(write.status).toBe(403);
		expect(relay.size).toBe(size);
	});
});

describe('peer --fhir option', () => {
	const link = networkLinkUrl('https://clinic.example/', {
		net: 'ab'.repeat(32) as never,
		secret: 'cd'.repeat(32),
		signaling: ['wss://signal.example/signaling'],
		name: 'North Clinic'
	});
	const fhirOf = (value?: string) =>
		(parsePeerArgs(['--invite', link, ...(value === undefined ? [] : ['--fhir', value])], '/home/clinic') as PeerOptions).fhir;
	it('binds to 127.0.0.1 unless a host is given; absent, no API', () => {
		expect(fhirOf()).toBeNull();
		expect(fhirOf('8080')).toEqual({ host: '127.0.0.1', port: 8080 });
		expect(fhirOf('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
		expect(fhirOf('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
		expect(fhirOf('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
	});
	it.each(['http://x:1', '127.0.0.1:', '127.0.0.1:99999', 'a b:1'])('refuses --fhir %j', (value) => {
		expect(() => fhirOf(value)).toThrow(UsageError);
	});
});
