/** Supply transactions in words, for the ledger view and the explorer. */
import { toHex, type Tx } from '$lib/core/index.js';

const short = (v: unknown) => (v instanceof Uint8Array ? toHex(v).slice(0, 8) : '?');
const where = (tx: Tx) => (typeof tx.location === 'string' ? ` at ${tx.location}` : '');

/** What a `supply.*` transaction does, or null for any other type. */
export function summarizeSupplyTx(tx: Tx): string | null {
	const lot = `lot ${String(tx.lot)} of ${String(tx.gtin)}`;
	switch (tx.t) {
		case 'supply.item':
			return `Item ${String(tx.gtin)}: ${String(tx.name)}`;
		case 'supply.receive':
			return `Received ${String(tx.qty)} × ${lot} (expires ${String(tx.expiry)}) from ${String(tx.supplier)}${where(tx)}`;
		case 'supply.transfer.send':
			return `Sent ${String(tx.qty)} × ${lot} to clinic ${short(tx.to)} (transfer ${short(tx.id)})`;
		case 'supply.transfer.receive':
			return `Received transfer ${short(tx.id)}${where(tx)}`;
		case 'supply.administer':
			return `${tx.kind === 'immunization' ? 'Vaccine' : 'Medicine'} given to patient ${short(tx.patient)}: ${typeof tx.qty === 'number' ? tx.qty : 1} × ${lot}${tx.encounter ? '' : ' (no encounter)'}`;
		case 'supply.waste':
			return `Wasted ${String(tx.qty)} × ${lot}: ${String(tx.reason)}`;
		case 'supply.adjust':
			return `Stock of ${lot} adjusted by ${typeof tx.delta === 'number' && tx.delta > 0 ? '+' : ''}${String(tx.delta)}: ${String(tx.reason)}`;
		case 'supply.recall':
			return `RECALL of ${lot}: ${String(tx.reason)}`;
		case 'supply.contact':
			return `Recall of ${lot}: patient ${short(tx.patient)} ${String(tx.status)}`;
		case 'supply.policy':
			return `Supply rules: ${[typeof tx.horizonDays === 'number' ? `expiry alerts ${tx.horizonDays} days ahead` : '', typeof tx.transitDays === 'number' ? `transfers due within ${tx.transitDays} days` : ''].filter(Boolean).join(', ')}`;
		case 'supply.reorder':
			return `Reorder point of ${String(tx.gtin)}: ${String(tx.level)}`;
		default:
			return null;
	}
}
