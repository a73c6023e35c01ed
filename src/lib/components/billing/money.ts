/** Cents as dollars, the way every billing view shows an amount: `$1234.50`. */
export const money = (cents: number): string => `$${(cents / 100).toFixed(2)}`;
