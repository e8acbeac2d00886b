/**
 * GTUBE, the Generic Test for Unsolicited Bulk Email (SpamAssassin's test string): a message carrying it
 * is spam by definition, so the whole path (quarantine, reasons, reject) can be tested with real mail.
 */
import type { Check, CheckResult } from '../types.ts';
import { GTUBE, readMessage, symbol } from './message.ts';

/**
 * Sure spam, yet below the default refusal score (15): the test string goes where a user meets spam,
 * the quarantine, so the whole path users see is tested with real mail (issue 5). A domain or user
 * with a lower refusal score gets it refused at DATA instead.
 */
export const GTUBE_SCORE = 10;

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
