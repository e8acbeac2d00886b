/**
 * GTUBE, the Generic Test for Unsolicited Bulk Email (SpamAssassin's test string): a message carrying it
 * is spam by definition, so the whole path (quarantine, reasons, reject) can be tested with real mail.
 */
import type { Check, CheckResult } from '../types.ts';
import { GTUBE, readMessage, symbol } from './message.ts';

export const GTUBE_SCORE = 1000;

export function gtubeCheck(): Check {
  return {
    name: 'gtube',
    async run(input): Promise<CheckResult> {
      const view = await readMessage(input);
      const found = view.rawGtube || view.texts.some((part) => part.text.includes(GTUBE));
      if (!found) return { symbols: [] };
      return {
        symbols: [
          symbol('gtube', 'GTUBE', GTUBE_SCORE, 'The message carries the GTUBE anti-spam test string', 'Le message contient la chaîne de test anti-spam GTUBE'),
        ],
      };
    },
  };
}
