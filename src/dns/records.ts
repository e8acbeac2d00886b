/**
 * The DNS records a customer's domain must publish (SPEC R-T3: MX to the provider, SPF authorising it,
 * the DKIM key, a recommended DMARC policy) and their live check, record by record. The service hosts
 * no DNS: it tells the customer what to publish, then looks at what is there.
 */
import { type Clock, systemClock } from '../shared/clock.ts';
import { type Text, text } from '../shared/errors.ts';
import { dkimRecordValue } from './dkim-keys.ts';
import type { DnsResolver, MxRecord } from './resolver.ts';

/** RFC 5321 §5.1 leaves order to priorities; ours leave room for the customer's own backups in between. */
const MX_PRIORITY_STEP = 10;
/** RFC 7208 §4.5: an SPF record starts with exactly `v=spf1`, then a space or its end. */
const SPF_VERSION = /^v=spf1(?: |$)/i;
/** RFC 7489 §6.4: the `v=DMARC1` tag comes first. */
const DMARC_VERSION = /^v\s*=\s*DMARC1\s*(?:;|$)/i;
const DMARC_POLICIES = ['none', 'quarantine', 'reject'];

export interface DomainRecordsInput {
  /** ASCII (punycode) domain. */
  domain: string;
  mxHosts: string[];
  spfInclude: string;
  dkimSelector: string;
  /** Base64 SPKI, as in the `p=` tag. */
  dkimPublicKey: string;
  /** Keys around the signing one during a rotation: the next (pending) and the previous ones. */
  dkimRotation?: DkimRotationKey[];
}

/** A DKIM key of a rotation: `pending` signs once its record is seen; `previous` stays published until `until`. */
export interface DkimRotationKey {
  role: 'pending' | 'previous';
  selector: string;
  publicKey: string;
  /** Previous keys: when the record may be removed (epoch ms). */
  until?: number;
}

export type RecordKind = 'mx' | 'spf' | 'dkim' | 'dmarc';

export interface ExpectedRecord {
  kind: RecordKind;
  type: 'MX' | 'TXT';
  /** Owner name, fully qualified, without the trailing dot. */
  host: string;
  /** What to publish, e.g. `10 mx1.provider.test` or `v=spf1 include:spf.provider.test ~all`. */
  value: string;
  priority?: number;
  description: Text;
  /** Set on the extra DKIM records of a rotation: they do not count in the domain's `ok`. */
  rotation?: 'pending' | 'previous';
  /** The DKIM selector, on DKIM records. */
  selector?: string;
}

export type RecordStatus = 'ok' | 'missing' | 'wrong' | 'error';

export type RecordCheck = ExpectedRecord & {
  status: RecordStatus;
  /** What the DNS holds: `priority host` for MX, each record's concatenated strings for TXT. */
  found: string[];
  message: Text;
};

export interface DomainCheck {
  domain: string;
  checkedAt: number;
  /** Every record is `ok`. */
  ok: boolean;
  records: RecordCheck[];
}

export function expectedRecords(input: DomainRecordsInput): ExpectedRecord[] {
  const { mx, spf, dkim, dmarc, rotation } = expectedRecordSet(input);
  return [...mx, spf, dkim, ...rotation.map((r) => r.record), dmarc];
}

interface ExpectedRecordSet {
  mx: ExpectedRecord[];
  spf: ExpectedRecord;
  dkim: ExpectedRecord;
  dmarc: ExpectedRecord;
  rotation: { record: ExpectedRecord; publicKey: string }[];
}

function rotationRecord(domain: string, key: DkimRotationKey): ExpectedRecord {
  const until = key.until === undefined ? '' : new Date(key.until).toISOString().slice(0, 10);
  return {
    kind: 'dkim',
    type: 'TXT',
    host: dkimHost(key.selector, domain),
    value: dkimRecordValue(key.publicKey),
    rotation: key.role,
    selector: key.selector,
    description:
      key.role === 'pending'
        ? text(
            'New DKIM key (rotation): publish it now; signing switches to it as soon as this record is seen in DNS.',
            "Nouvelle clé DKIM (renouvellement) : publiez-la maintenant ; la signature passe à cette clé dès que l'enregistrement est visible dans le DNS.",
          )
        : text(
            `Previous DKIM key: keep it published until ${until} so mail signed before the rotation still verifies, then remove it.`,
            `Clé DKIM précédente : laissez-la publiée jusqu'au ${until} pour que le courrier signé avant le renouvellement reste vérifiable, puis supprimez-la.`,
          ),
  };
}

function expectedRecordSet(input: DomainRecordsInput): ExpectedRecordSet {
  const domain = normalizeHost(input.domain);
  return {
    mx: input.mxHosts.map((host, index) => expectedMx(domain, normalizeHost(host), (index + 1) * MX_PRIORITY_STEP)),
    spf: {
      kind: 'spf',
      type: 'TXT',
      host: domain,
      value: `v=spf1 include:${normalizeHost(input.spfInclude)} ~all`,
      description: text(
        "Authorises the provider's servers to send mail for the domain (SPF).",
        'Autorise les serveurs du fournisseur à envoyer du courrier pour le domaine (SPF).',
      ),
    },
    rotation: (input.dkimRotation ?? []).map((key) => ({ record: rotationRecord(domain, key), publicKey: key.publicKey })),
    dkim: {
      kind: 'dkim',
      type: 'TXT',
      selector: input.dkimSelector,
      host: dkimHost(input.dkimSelector, domain),
      value: dkimRecordValue(input.dkimPublicKey),
      description: text(
        'Publishes the key that verifies the signature of mail sent from the domain (DKIM).',
        'Publie la clé qui permet de vérifier la signature du courrier envoyé depuis le domaine (DKIM).',
      ),
    },
    dmarc: {
      kind: 'dmarc',
      type: 'TXT',
      host: `_dmarc.${domain}`,
      value: `v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:dmarc-reports@${domain}`,
      description: text(
        'Recommended: asks receivers to quarantine mail failing SPF and DKIM, and to send reports (DMARC).',
        "Recommandé : demande aux destinataires de mettre en quarantaine le courrier qui échoue à SPF et DKIM, et d'envoyer des rapports (DMARC).",
      ),
    },
  };
}

function expectedMx(domain: string, host: string, priority: number): ExpectedRecord {
  return {
    kind: 'mx',
    type: 'MX',
    host: domain,
    value: `${priority} ${host}`,
    priority,
    description: text(`Routes the domain's incoming mail to ${host}.`, `Achemine le courrier entrant du domaine vers ${host}.`),
  };
}

/** RFC 6376 §3.6.2.1: keys live at `<selector>._domainkey.<domain>`. */
function dkimHost(selector: string, domain: string): string {
  return `${selector.toLowerCase()}._domainkey.${domain}`;
}

/** Looks every record up at once; a failed lookup only marks its own records as `error`. */
export async function checkDomainRecords(resolver: DnsResolver, input: DomainRecordsInput, clock: Clock = systemClock): Promise<DomainCheck> {
  const { mx, spf, dkim, dmarc, rotation } = expectedRecordSet(input);
  const domain = spf.host;
  const [mxFound, spfFound, dkimFound, dmarcFound, ...rotationFound] = await Promise.all([
    lookup(() => resolver.resolveMx(domain)),
    lookupTxt(resolver, spf.host),
    lookupTxt(resolver, dkim.host),
    lookupTxt(resolver, dmarc.host),
    ...rotation.map((r) => lookupTxt(resolver, r.record.host)),
  ]);
  const records = [
    ...checkMx(mx, mxFound),
    checkSpf(spf, normalizeHost(input.spfInclude), spfFound),
    checkDkim(dkim, input.dkimPublicKey, dkimFound),
    ...rotation.map((r, i) => checkDkim(r.record, r.publicKey, rotationFound[i] as Lookup<string[]>)),
    checkDmarc(dmarc, dmarcFound),
  ];
  // The records of a rotation are advice: the domain works with its signing key alone.
  const ok = records.every((record) => record.status === 'ok' || record.rotation !== undefined);
  return { domain, checkedAt: clock.now(), ok, records };
}

// --- lookups ---

type Lookup<T> = { kind: 'found'; value: T } | { kind: 'absent' } | { kind: 'failed'; code: string };

async function lookup<T>(query: () => Promise<T>): Promise<Lookup<T>> {
  try {
    return { kind: 'found', value: await query() };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return { kind: 'absent' };
    return { kind: 'failed', code: typeof code === 'string' ? code : 'EUNKNOWN' };
  }
}

/** RFC 7208 §3.3, RFC 6376 §3.6.2.2: a record's strings are joined without separator. */
function lookupTxt(resolver: DnsResolver, host: string): Promise<Lookup<string[]>> {
  return lookup(async () => (await resolver.resolveTxt(host)).map((strings) => strings.join('')));
}

function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '');
}

function result(expected: ExpectedRecord, status: RecordStatus, found: string[], message: Text): RecordCheck {
  return { ...expected, status, found, message };
}

function missing(expected: ExpectedRecord): RecordCheck {
  return result(
    expected,
    'missing',
    [],
    text(
      `No ${expected.type} record found at ${expected.host}; publish: ${expected.value}`,
      `Aucun enregistrement ${expected.type} trouvé pour ${expected.host} ; à publier : ${expected.value}`,
    ),
  );
}

function failed(expected: ExpectedRecord, code: string): RecordCheck {
  return result(
    expected,
    'error',
    [],
    text(
      `The DNS lookup of ${expected.host} failed (${code}), so the record could not be checked; try again later.`,
      `La requête DNS pour ${expected.host} a échoué (${code}), l'enregistrement n'a donc pas pu être vérifié ; réessayez plus tard.`,
    ),
  );
}

function wrong(expected: ExpectedRecord, found: string[], problem: Text): RecordCheck {
  return result(expected, 'wrong', found, text(`${problem.en} Expected: ${expected.value}`, `${problem.fr} Attendu : ${expected.value}`));
}

// --- MX ---

function checkMx(expected: ExpectedRecord[], answer: Lookup<MxRecord[]>): RecordCheck[] {
  if (answer.kind === 'absent') return expected.map((record) => missing(record));
  if (answer.kind === 'failed') return expected.map((record) => failed(record, answer.code));
  const records = [...answer.value].sort((a, b) => a.priority - b.priority || a.exchange.localeCompare(b.exchange));
  const found = records.map((mx) => `${mx.priority} ${normalizeHost(mx.exchange) || '.'}`);
  const exchanges = records.map((mx) => normalizeHost(mx.exchange));
  const providerHosts = expected.map(mxHostOf);
  const foreign = found.filter((_, index) => !providerHosts.includes(exchanges[index]!));
  return expected.map((record) => checkOneMx(record, exchanges, found, foreign));
}

function mxHostOf(record: ExpectedRecord): string {
  return record.value.slice(record.value.indexOf(' ') + 1);
}

function checkOneMx(expected: ExpectedRecord, exchanges: string[], found: string[], foreign: string[]): RecordCheck {
  const host = mxHostOf(expected);
  // RFC 7505 §3: a null MX (`0 .`) declares that the domain accepts no mail at all.
  if (exchanges.includes('')) {
    return wrong(expected, found, text('A null MX (0 .) says the domain accepts no mail.', "Un MX nul (0 .) indique que le domaine n'accepte aucun courrier."));
  }
  if (foreign.length > 0) {
    return wrong(
      expected,
      found,
      text(
        `Other MX records send part or all of the mail elsewhere: ${foreign.join(', ')}; remove them.`,
        `D'autres enregistrements MX envoient tout ou partie du courrier ailleurs : ${foreign.join(', ')} ; supprimez-les.`,
      ),
    );
  }
  if (!exchanges.includes(host)) {
    return result(
      expected,
      'missing',
      found,
      text(`No MX record points to ${host}; publish: ${expected.value}`, `Aucun enregistrement MX ne pointe vers ${host} ; à publier : ${expected.value}`),
    );
  }
  return result(expected, 'ok', found, text(`An MX record points to ${host}.`, `Un enregistrement MX pointe vers ${host}.`));
}

// --- SPF ---

function checkSpf(expected: ExpectedRecord, include: string, answer: Lookup<string[]>): RecordCheck {
  if (answer.kind === 'failed') return failed(expected, answer.code);
  const records = answer.kind === 'found' ? answer.value.filter((record) => SPF_VERSION.test(record)) : [];
  const [record] = records;
  if (record === undefined) return missing(expected);
  if (records.length > 1) {
    return wrong(
      expected,
      records,
      text(
        `${records.length} SPF records are published; receivers then fail SPF for every message (RFC 7208 §4.5). Merge them into one.`,
        `${records.length} enregistrements SPF sont publiés ; les destinataires font alors échouer SPF pour chaque message (RFC 7208 §4.5). Fusionnez-les en un seul.`,
      ),
    );
  }
  if (!includesDomain(record, include)) {
    return wrong(
      expected,
      records,
      text(
        `The SPF record does not authorise the provider: it lacks include:${include} (without a -, ~ or ? qualifier).`,
        `L'enregistrement SPF n'autorise pas le fournisseur : il manque include:${include} (sans qualificatif -, ~ ou ?).`,
      ),
    );
  }
  return result(expected, 'ok', records, text(`The SPF record includes ${include}.`, `L'enregistrement SPF inclut ${include}.`));
}

/** RFC 7208 §4.6.1, §5.2: terms are separated by spaces; `include` passes only with the `+` qualifier or none. */
function includesDomain(record: string, include: string): boolean {
  return record
    .split(/\s+/)
    .map((term) => /^\+?include:(.+)$/i.exec(term)?.[1])
    .some((domain) => domain !== undefined && normalizeHost(domain) === include);
}

// --- DKIM ---

function checkDkim(expected: ExpectedRecord, publicKey: string, answer: Lookup<string[]>): RecordCheck {
  if (answer.kind === 'failed') return failed(expected, answer.code);
  if (answer.kind === 'absent' || answer.value.length === 0) return missing(expected);
  const problem = answer.value.map((record) => dkimRecordProblem(record, withoutWhitespace(publicKey))).find((found) => found !== undefined);
  if (problem) return wrong(expected, answer.value, problem);
  return result(expected, 'ok', answer.value, text('The DKIM record publishes the right key.', "L'enregistrement DKIM publie la bonne clé."));
}

/** RFC 6376 §3.6.1; undefined when the record carries our key. Several records must all carry it (§3.6.2.2). */
function dkimRecordProblem(record: string, publicKey: string): Text | undefined {
  const tags = parseTagList(record);
  if (tags === undefined) return text('The DKIM record is not a valid tag=value list.', "L'enregistrement DKIM n'est pas une liste tag=valeur valide.");
  const version = tags.get('v');
  if (version !== undefined && version !== 'DKIM1')
    return text(`The DKIM record has v=${version}, not v=DKIM1.`, `L'enregistrement DKIM a v=${version} et non v=DKIM1.`);
  const key = tags.get('p');
  if (key === undefined) return text('The DKIM record has no key (p= tag).', "L'enregistrement DKIM n'a pas de clé (tag p=).");
  if (key === '') return text('The DKIM record has an empty p=, which revokes the key.', "L'enregistrement DKIM a un p= vide, ce qui révoque la clé.");
  if (withoutWhitespace(key) !== publicKey) return text('The DKIM record publishes a different key.', "L'enregistrement DKIM publie une autre clé.");
  return undefined;
}

/** RFC 6376 §3.6.1: base64 in `p=` may be folded with whitespace. */
function withoutWhitespace(value: string): string {
  return value.replace(/\s+/g, '');
}

/**
 * RFC 6376 §3.2 tag=value list (DMARC uses the same, RFC 7489 §6.4): whitespace around names and values
 * is ignored, a trailing `;` is allowed; undefined when malformed or when a tag repeats.
 */
function parseTagList(record: string, options: { lowercaseNames?: boolean } = {}): Map<string, string> | undefined {
  const tags = new Map<string, string>();
  for (const spec of record.split(';')) {
    if (spec.trim() === '') continue;
    const equals = spec.indexOf('=');
    if (equals < 0) return undefined;
    const rawName = spec.slice(0, equals).trim();
    const name = options.lowercaseNames ? rawName.toLowerCase() : rawName;
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name) || tags.has(name)) return undefined;
    tags.set(name, spec.slice(equals + 1).trim());
  }
  return tags;
}

// --- DMARC ---

function checkDmarc(expected: ExpectedRecord, answer: Lookup<string[]>): RecordCheck {
  if (answer.kind === 'failed') return failed(expected, answer.code);
  const records = answer.kind === 'found' ? answer.value.filter((record) => DMARC_VERSION.test(record)) : [];
  const [record] = records;
  if (record === undefined) return missing(expected);
  if (records.length > 1) {
    return wrong(
      expected,
      records,
      text(
        `${records.length} DMARC records are published, so receivers apply none (RFC 7489 §6.6.3). Keep only one.`,
        `${records.length} enregistrements DMARC sont publiés, les destinataires n'en appliquent donc aucun (RFC 7489 §6.6.3). N'en gardez qu'un.`,
      ),
    );
  }
  // RFC 7489 §6.4: ABNF literals, hence tag names and policies, are case-insensitive.
  const policy = parseTagList(record, { lowercaseNames: true })?.get('p')?.toLowerCase();
  if (policy === undefined || !DMARC_POLICIES.includes(policy)) {
    return wrong(
      expected,
      records,
      text(
        'The DMARC record has no valid policy: p= must be none, quarantine or reject.',
        "L'enregistrement DMARC n'a pas de politique valide : p= doit valoir none, quarantine ou reject.",
      ),
    );
  }
  if (policy === 'none') {
    return result(
      expected,
      'ok',
      records,
      text(
        'The DMARC record (p=none) only monitors: receivers take no action on failing mail. Consider p=quarantine once the reports look right.',
        "L'enregistrement DMARC (p=none) ne fait que surveiller : les destinataires ne font rien du courrier en échec. Envisagez p=quarantine quand les rapports sont bons.",
      ),
    );
  }
  return result(expected, 'ok', records, text(`The DMARC record is published (p=${policy}).`, `L'enregistrement DMARC est publié (p=${policy}).`));
}
