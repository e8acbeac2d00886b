/** SUBSCRIBE (RFC 3501 §6.3.6). */
import { subscription } from './subscription.ts';

export const subscribe = subscription('SUBSCRIBE');
