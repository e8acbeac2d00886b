/**
 * Sender authentication, from the MX's mailauth results (FilterInput.auth): SPF, DKIM, DMARC. A DMARC
 * failure under the domain owner's `p=reject` policy gets DMARC_POLICY_REJECT with a score far above
 * any threshold; the decision code recognises that name and never lets an allow list override it.
 */
import type { AuthSummary, Check, CheckResult, FilterSymbol } from '../types.ts';
import { symbol } from './message.ts';

const SOURCE = 'auth';

/** Far above the default reject score (15): the domain owner asked for this mail to be refused. */
export const DMARC_REJECT_SCORE = 100;

export const AUTH_SCORES = {
  SPF_FAIL: 2.5,
  SPF_SOFTFAIL: 1,
  DKIM_FAIL: 2,
  NO_DKIM: 0.3,
  DMARC_FAIL: 3,
  DMARC_POLICY_QUARANTINE: 6,
  DMARC_POLICY_REJECT: DMARC_REJECT_SCORE,
  DMARC_PASS: -0.5,
} as const;

/** First word of a result, lower-cased: "pass (example.com)" -> "pass". */
function resultOf(value: string | undefined): string {
  return (
    (value ?? '')
      .trim()
      .split(/[\s(;]/, 1)[0]
      ?.toLowerCase() ?? ''
  );
}

export function authSymbols(auth: AuthSummary): FilterSymbol[] {
  const out: FilterSymbol[] = [];
  const spf = resultOf(auth.spf);
  if (spf === 'fail')
    out.push(
      symbol(
        SOURCE,
        'SPF_FAIL',
        AUTH_SCORES.SPF_FAIL,
        'SPF: the sending server is not allowed by the domain',
        "SPF : le serveur d'envoi n'est pas autorisé par le domaine",
      ),
    );
  else if (spf === 'softfail')
    out.push(
      symbol(
        SOURCE,
        'SPF_SOFTFAIL',
        AUTH_SCORES.SPF_SOFTFAIL,
        'SPF: the sending server is probably not allowed by the domain',
        "SPF : le serveur d'envoi n'est probablement pas autorisé par le domaine",
      ),
    );

  const dkim = auth.dkim.map(resultOf);
  if (dkim.length === 0 || dkim.every((r) => r === 'none' || r === ''))
    out.push(symbol(SOURCE, 'NO_DKIM', AUTH_SCORES.NO_DKIM, 'The message has no DKIM signature', "Le message n'a pas de signature DKIM"));
  else if (!dkim.includes('pass') && dkim.some((r) => r === 'fail' || r === 'neutral' || r === 'permerror' || r === 'policy'))
    out.push(
      symbol(SOURCE, 'DKIM_FAIL', AUTH_SCORES.DKIM_FAIL, 'DKIM: no signature of the message is valid', "DKIM : aucune signature du message n'est valide"),
    );

  const dmarc = resultOf(auth.dmarc);
  if (dmarc === 'fail') {
    const policy = resultOf(auth.dmarcPolicy);
    if (policy === 'reject')
      out.push(
        symbol(
          SOURCE,
          'DMARC_POLICY_REJECT',
          AUTH_SCORES.DMARC_POLICY_REJECT,
          'DMARC failed and the domain of the sender asks for such mail to be refused',
          "DMARC a échoué et le domaine de l'expéditeur demande de refuser un tel message",
        ),
      );
    else if (policy === 'quarantine')
      out.push(
        symbol(
          SOURCE,
          'DMARC_POLICY_QUARANTINE',
          AUTH_SCORES.DMARC_POLICY_QUARANTINE,
          'DMARC failed and the domain of the sender asks for such mail to be held',
          "DMARC a échoué et le domaine de l'expéditeur demande de mettre un tel message de côté",
        ),
      );
    else
      out.push(
        symbol(
          SOURCE,
          'DMARC_FAIL',
          AUTH_SCORES.DMARC_FAIL,
          'DMARC: the sender address is not authenticated',
          "DMARC : l'adresse de l'expéditeur n'est pas authentifiée",
        ),
      );
  } else if (dmarc === 'pass') {
    out.push(
      symbol(SOURCE, 'DMARC_PASS', AUTH_SCORES.DMARC_PASS, 'DMARC: the sender address is authenticated', "DMARC : l'adresse de l'expéditeur est authentifiée"),
    );
  }
  return out;
}

/** Inbound only: outbound mail is authenticated by its login, and has no results of the MX. */
export function authCheck(): Check {
  return {
    name: SOURCE,
    async run(input): Promise<CheckResult> {
      if (input.direction !== 'inbound' || !input.auth) return { symbols: [] };
      return { symbols: authSymbols(input.auth) };
    },
  };
}
