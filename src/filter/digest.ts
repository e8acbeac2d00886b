/**
 * The quarantine digest (R-S3): each account with newly held messages gets an e-mail, in its language,
 * listing sender, subject, date and reason with a release and a delete link (links.ts), as often as it
 * chose (weekly by default, daily, or off: prefs.ts); never when nothing is new.
 *
 * Delivered like any local mail, through the mailstore's one write path (`deliverMessage`: the account
 * is ours, so its copy goes straight to its Inbox, as submission does for local recipients).
 *
 * Once, and never lost: the digest is composed with its links signed beforehand, then its delivery
 * commits with the claim — `last_digest_at` moved by a conditional UPDATE (compare-and-set, so of two
 * runs only one delivers), the held messages marked `digested_at`, their links stored. A failure or a
 * crash leaves all of it undone, and the messages come in the next run.
 */
import type { Transaction } from 'kysely';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { AppContext } from '../context.ts';
import { deliverMessage, receiveMessage } from '../mailstore/index.ts';
import { DAY_MS } from '../shared/clock.ts';
import type { Language } from '../shared/errors.ts';
import type { Database, DigestLinksTable, QuarantineTable } from '../store/index.ts';
import { linkSecret, linkUrl, type NewLinks, planDigestLinks } from './links.ts';
import { type DigestFrequency, effectivePrefs } from './prefs.ts';

/** Most messages one digest lists; more wait for the next one. */
export const MAX_DIGEST_ITEMS = 200;

const PERIOD_MS: Record<Exclude<DigestFrequency, 'off'>, number> = { daily: DAY_MS, weekly: 7 * DAY_MS };

export interface DigestRunSummary {
  /** Digests delivered. */
  sent: number;
  /** Held messages they listed. */
  messages: number;
}

interface DigestItem {
  row: QuarantineTable;
  links: NewLinks;
}

interface Account {
  id: string;
  customer_id: string;
  domain_id: string;
  address: string;
  display_name: string;
  language: Language;
  status: string;
}

/** Sends every digest that is due now (the `digest.send` job and `facteur digest send-due`). Safe to run twice. */
export async function sendDueDigests(ctx: AppContext): Promise<DigestRunSummary> {
  const summary: DigestRunSummary = { sent: 0, messages: 0 };
  const pending = await ctx.db.selectFrom('quarantine').select('account_id').distinct().where('digested_at', 'is', null).execute();
  for (const { account_id } of pending) {
    try {
      const listed = await sendDigestIfDue(ctx, account_id);
      if (listed > 0) {
        summary.sent++;
        summary.messages += listed;
      }
    } catch (error) {
      ctx.log.error({ event: 'filter.digest_failed', account: account_id, err: error }, 'filter.digest_failed');
    }
  }
  return summary;
}

/** Sends one account's digest when due and something is new; returns how many messages it listed. */
export async function sendDigestIfDue(ctx: AppContext, accountId: string): Promise<number> {
  const account = (await ctx.db
    .selectFrom('accounts')
    .select(['id', 'customer_id', 'domain_id', 'address', 'display_name', 'language', 'status'])
    .where('id', '=', accountId)
    .executeTakeFirst()) as Account | undefined;
  if (!account || account.status !== 'active') return 0;
  const prefs = await effectivePrefs(ctx, ctx.db, { accountId, domainId: account.domain_id });
  if (prefs.digest === 'off') return 0;
  const own = await ctx.db.selectFrom('filter_prefs').select('last_digest_at').where('owner_id', '=', accountId).executeTakeFirst();
  const last = own?.last_digest_at === null || own?.last_digest_at === undefined ? null : Number(own.last_digest_at);
  const now = ctx.clock.now();
  if (last !== null && last + PERIOD_MS[prefs.digest] > now) return 0;

  const secret = await linkSecret(ctx);
  const linkExpiry = now + Math.round(ctx.config.filter.digestLinkDays * DAY_MS);
  const rows = await ctx.db
    .selectFrom('quarantine')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('digested_at', 'is', null)
    .orderBy('received_at', 'desc')
    .orderBy('id', 'desc')
    .limit(MAX_DIGEST_ITEMS)
    .execute();
  if (rows.length === 0) return 0;
  const planned = rows.map((row) => ({ row, ...planDigestLinks(secret, row.id, linkExpiry) }));
  const raw = await composeDigest(ctx, account, planned, now);
  const message = await receiveMessage(
    ctx,
    (async function* () {
      yield raw;
    })(),
    { maxBytes: Math.max(raw.length, ctx.config.limits.maxMessageBytes) },
  );
  let listed = 0;
  try {
    const [result] = await deliverMessage(ctx, message, [{ accountId }], {
      within: async (trx, results) => {
        // Not filed (a full mailbox): nothing is claimed, the messages wait for the next run.
        if (results[0]?.ok) listed = await claimDigest(trx, account, last, now, planned);
      },
      trace: (results) => [
        {
          step: 'delivered',
          direction: 'local',
          customerId: account.customer_id,
          messageId: message.metadata.summary.messageId,
          sender: '',
          recipient: account.address,
          detail: { digest: rows.length, ok: results[0]?.ok ?? false },
        },
      ],
    });
    if (!result?.ok) throw new Error(`digest not filed: ${result?.reason ?? 'unknown'}`);
  } catch (error) {
    if (error instanceof ClaimLost) return 0;
    throw error;
  }
  ctx.log.info({ event: 'filter.digest_sent', account: accountId, messages: listed }, 'filter.digest_sent');
  return listed;
}

/** Another run sent this account's digest first: this one is not delivered. */
class ClaimLost extends Error {}

/**
 * In the digest's delivery commit: moves `last_digest_at` from the value this run read (a
 * compare-and-set: of two runs, one wins, the other's delivery is cancelled), marks the messages
 * still held as listed and stores their links. Returns how many it listed.
 */
async function claimDigest(
  trx: Transaction<Database>,
  account: Account,
  last: number | null,
  now: number,
  planned: Array<{ row: QuarantineTable; rows: DigestLinksTable[] }>,
): Promise<number> {
  await trx
    .insertInto('filter_prefs')
    .values({
      customer_id: account.customer_id,
      owner_id: account.id,
      quarantine_score: null,
      reject_score: null,
      blocked_action: null,
      digest: null,
      last_digest_at: null,
    })
    .onConflict((oc) => oc.column('owner_id').doNothing())
    .execute();
  const claim = await trx
    .updateTable('filter_prefs')
    .set({ last_digest_at: now })
    .where('owner_id', '=', account.id)
    .where((eb) => (last === null ? eb('last_digest_at', 'is', null) : eb('last_digest_at', '=', last)))
    .executeTakeFirst();
  if (Number(claim.numUpdatedRows) !== 1) throw new ClaimLost();
  const marked = await trx
    .updateTable('quarantine')
    .set({ digested_at: now })
    .where(
      'id',
      'in',
      planned.map((p) => p.row.id),
    )
    .where('digested_at', 'is', null)
    .returning('id')
    .execute();
  // Released or deleted since they were read: their links would lead nowhere.
  const still = new Set(marked.map((m) => m.id));
  const links = planned.filter((p) => still.has(p.row.id)).flatMap((p) => p.rows);
  if (links.length > 0) await trx.insertInto('digest_links').values(links).execute();
  return still.size;
}

const TEXTS = {
  en: {
    subject: (n: number) => `Quarantine: ${n} new message${n === 1 ? '' : 's'} held for you`,
    intro: (address: string) =>
      `These messages to ${address} were held in quarantine instead of your Inbox. Release the ones you want; the others are deleted automatically.`,
    from: 'From',
    subjectLabel: 'Subject',
    date: 'Date',
    reason: 'Reason',
    release: 'Release to Inbox',
    delete: 'Delete',
    noSubject: '(no subject)',
    links: (days: number) => `Each link works once, for ${days} days, without logging in.`,
    reasons: { spam: 'Spam', 'blocked-sender': 'Blocked sender', 'failed-safe': 'Could not be fully scanned' },
    locale: 'en-GB',
    colon: ': ',
  },
  fr: {
    subject: (n: number) => `Quarantaine : ${n} nouveau${n === 1 ? '' : 'x'} message${n === 1 ? '' : 's'} retenu${n === 1 ? '' : 's'} pour vous`,
    intro: (address: string) =>
      `Ces messages adressés à ${address} ont été retenus en quarantaine au lieu d'arriver dans votre boîte de réception. Relâchez ceux que vous voulez ; les autres seront supprimés automatiquement.`,
    from: 'De',
    subjectLabel: 'Objet',
    date: 'Date',
    reason: 'Motif',
    release: 'Relâcher vers la boîte de réception',
    delete: 'Supprimer',
    noSubject: '(sans objet)',
    links: (days: number) => `Chaque lien ne sert qu'une fois, pendant ${days} jours, sans connexion.`,
    reasons: { spam: 'Indésirable', 'blocked-sender': 'Expéditeur bloqué', 'failed-safe': "N'a pas pu être entièrement analysé" },
    locale: 'fr-FR',
    colon: ' : ',
  },
} as const;

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function reasonOf(t: (typeof TEXTS)[Language], row: QuarantineTable, language: Language): string {
  const base = t.reasons[row.reason];
  if (row.reason !== 'spam') return base;
  const score = new Intl.NumberFormat(t.locale, { maximumFractionDigits: 1 }).format(Number(row.score));
  const first = (JSON.parse(row.symbols) as Array<{ score: number; reason: Record<Language, string> }>).sort((a, b) => b.score - a.score)[0];
  return `${base} (score ${score}${first ? `${t.colon}${first.reason[language]}` : ''})`;
}

/** The digest e-mail: text and HTML alternatives, in the account's language. */
async function composeDigest(ctx: AppContext, account: Account, items: DigestItem[], now: number): Promise<Buffer> {
  const language = account.language === 'fr' ? 'fr' : 'en';
  const t = TEXTS[language];
  const dateFormat = new Intl.DateTimeFormat(t.locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  const entries = items.map(({ row, links }) => ({
    from: row.from_header || row.sender || '<>',
    subject: row.subject || t.noSubject,
    date: `${dateFormat.format(new Date(Number(row.received_at)))} UTC`,
    reason: reasonOf(t, row, language),
    release: linkUrl(ctx, links.release),
    delete: linkUrl(ctx, links.delete),
  }));
  const days = ctx.config.filter.digestLinkDays;
  const text = [
    t.intro(account.address),
    '',
    ...entries.flatMap((e) => [
      `${t.from}${t.colon}${e.from}`,
      `${t.subjectLabel}${t.colon}${e.subject}`,
      `${t.date}${t.colon}${e.date}`,
      `${t.reason}${t.colon}${e.reason}`,
      `${t.release}${t.colon}${e.release}`,
      `${t.delete}${t.colon}${e.delete}`,
      '',
    ]),
    t.links(days),
  ].join('\n');
  const rowsHtml = entries
    .map(
      (e) =>
        `<tr><td>${escapeHtml(e.date)}</td><td>${escapeHtml(e.from)}</td><td>${escapeHtml(e.subject)}</td><td>${escapeHtml(e.reason)}</td>` +
        `<td><a href="${escapeHtml(e.release)}">${escapeHtml(t.release)}</a> · <a href="${escapeHtml(e.delete)}">${escapeHtml(t.delete)}</a></td></tr>`,
    )
    .join('\n');
  const html = `<!doctype html>
<html lang="${language}"><head><meta charset="utf-8"><title>${escapeHtml(t.subject(items.length))}</title></head>
<body style="font-family: sans-serif">
<p>${escapeHtml(t.intro(account.address))}</p>
<table cellpadding="6" style="border-collapse: collapse">
<thead><tr><th align="left">${t.date}</th><th align="left">${t.from}</th><th align="left">${t.subjectLabel}</th><th align="left">${t.reason}</th><th></th></tr></thead>
<tbody>
${rowsHtml}
</tbody></table>
<p><small>${escapeHtml(t.links(days))}</small></p>
</body></html>`;
  const composer = new MailComposer({
    from: { name: 'Facteur', address: `postmaster@${ctx.config.hostname}` },
    to: { name: account.display_name, address: account.address },
    subject: t.subject(items.length),
    text,
    html,
    date: new Date(now),
    messageId: `<digest.${now.toString(36)}.${items[0]?.row.id}@${ctx.config.hostname}>`,
    headers: { 'Auto-Submitted': 'auto-generated', 'Content-Language': language },
  });
  return composer.compile().build();
}
