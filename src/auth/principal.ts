/**
 * Who is asking. Least privilege between the three roles of the contract: the operator (the
 * provider's staff) sees everything; a customer admin (or an API token, which acts for one customer)
 * sees its own customer's data only; a user sees its own mail account only.
 */
export type Role = 'operator' | 'customer_admin' | 'user';

export type Principal =
  | { role: 'operator'; id: string; via: 'session' | 'cli' }
  | { role: 'customer_admin'; id: string; customerId: string; via: 'session' | 'token' }
  | { role: 'user'; id: string; customerId: string; via: 'session' };

/** The customer a principal is confined to; null for the operator, who may see every customer. */
export function customerScope(principal: Principal): string | null {
  return principal.role === 'operator' ? null : principal.customerId;
}

/** The operator as seen by the CLI, which runs with the operator's rights on the same data. */
export const CLI_OPERATOR: Principal = { role: 'operator', id: 'cli', via: 'cli' };
