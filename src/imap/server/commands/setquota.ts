/** SETQUOTA (RFC 9208 §4.1.3): refused, with NO [NOPERM]. */
import { AUTHENTICATED, defineCommand, no } from '../command.ts';

/** RFC 9208 §4.1.3: SETQUOTA may be refused; limits come from the account's class, set by the operator, not by the user. */
export const setquota = defineCommand({
  name: 'SETQUOTA',
  states: AUTHENTICATED,
  async run() {
    return no('Quotas are set by your provider', 'NOPERM');
  },
});
