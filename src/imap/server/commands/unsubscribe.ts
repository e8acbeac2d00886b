/** UNSUBSCRIBE (RFC 3501 §6.3.7). */
import { subscription } from './subscription.ts';

export const unsubscribe = subscription('UNSUBSCRIBE');
