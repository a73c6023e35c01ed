/**
 * A decision as a FHIR R4 `ClaimResponse`: line adjudications (submitted, eligible,
 * copay, deductible, benefit) with X12 claim adjustment reason codes and groups, and
 * totals. Derived on read from the fold's integer cents (FHIR money is decimal).
 */
import type { ClaimResponse, ClaimResponseItemAdjudication, Money } from '@medplum/fhirtypes';
import type { ClaimRecord, Decision } from './claims-state.js';

export const ADJUDICATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/adjudication';
export const CARC_SYSTEM = 'https://x12.org/codes/claim-adjustment-reason-codes';
export const GROUP_SYSTEM = 'https://x12.org/codes/claim-adjustment-group-codes';

const money = (cents: number): Money => ({ value: cents / 100, currency: 'USD' });
const category = (code: string) => ({ coding: [{ system: ADJUDICATION_SYSTEM, code }] });

/** The ClaimResponse for `decision` of `rec` (by default its latest). */
export function claimResponseOf(rec: ClaimRecord, decision: Decision = rec.decisions[rec.decisions.length - 1]!): ClaimResponse {
	const item = decision.lines.map((l) => {
		const adjudication: ClaimResponseItemAdjudication[] = [
			{ category: category('submitted'), amount: money(l.billed) },
			{ category: category('eligible'), amount: money(l.allowed) },
			...l.adjustments.map((a) => ({
				category: category(a.carc === '3' ? 'copay' : a.carc === '1' ? 'deductible' : a.group === 'PR' ? 'coinsurance' : 'denied'),
				reason: {
					coding: [
						{ system: CARC_SYSTEM, code: a.carc },
						{ system: GROUP_SYSTEM, code: a.group }
					]
				},
				amount: money(a.amount)
			})),
			{ category: category('benefit'), amount: money(l.payer) }
		];
		return { itemSequence: l.seq, adjudication };
	});
	return {
		resourceType: 'ClaimResponse',
		id: `${rec.id}.${rec.decisions.indexOf(decision)}`,
		status: 'active',
		type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
		use: 'claim',
		patient: { reference: `Patient/${rec.patient}` },
		created: new Date(rec.submitted).toISOString(),
		insurer: { reference: `Organization/${rec.payer ?? 'unknown'}` },
		request: { reference: `Claim/${rec.id}` },
		outcome: decision.status === 'paid' ? 'complete' : 'partial',
		disposition: `${decision.kind} decision under ${decision.plan ?? 'no contract'}${decision.version !== null ? ` v${decision.version}` : ''}: ${decision.status}${rec.replaces ? `; corrects Claim/${rec.replaces}` : ''}${rec.replacedBy ? `; replaced by Claim/${rec.replacedBy}` : ''}`,
		item,
		total: [
			{ category: category('submitted'), amount: money(decision.billed) },
			{ category: category('benefit'), amount: money(decision.payer) }
		],
		payment: {
			type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/ex-paymenttype', code: 'complete' }] },
			amount: money(decision.payer)
		}
	};
}
