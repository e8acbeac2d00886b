/** COPY and UID COPY (RFC 3501 §6.4.7, §6.4.8) with UIDPLUS's COPYUID (RFC 4315 §3). */
import { copyOrMove } from './copy-messages.ts';

export const copy = copyOrMove('COPY');
