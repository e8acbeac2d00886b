/** MOVE and UID MOVE (RFC 6851) with UIDPLUS's COPYUID (RFC 4315 §3), in an untagged OK (RFC 6851 §4.3). */
import { copyOrMove } from './copy-messages.ts';

export const move = copyOrMove('MOVE');
