/** Shared helper of the ledger tests: the transactions of a note block. */
export const note = (text: string) => [{ t: 'note', text }];
