/**
 * Customer domains (R-T3): at least one per subscription for the service to work. Adding a domain
 * generates its DKIM key and shows the records to publish (MX, SPF, DKIM, DMARC); a live check
 * through the service's one resolver gives a status per record. Names are stored in ASCII (punycode)
 * and shown in Unicode. The service does not host DNS.
 */
import type { AppContext } from '../context.ts';
import { checkDomainRecords, type DomainCheck, dkimSelector, type ExpectedRecord, expectedRecords, generateDkimKey } from '../dns/index.ts';
import { addressKey, parseAddress, parseDomain } from '../shared/addresses.ts';
import { AppError, text } from '../shared/errors.ts';
import { toUnicodeDomain } from '../shared/idn.ts';
import { newId } from '../shared/ids.ts';
import type { DkimKeysTable, DomainContactsTable, DomainsTable } from '../store/index.ts';
import { claimUnique, type Db, ensureFound, requireText, type Scope } from './common.ts';
import { getCustomerRow } from './customers.ts';
import {
  activatePendingKey,
  createPendingKey,
  type DkimRotationView,
  deletePendingKey,
  dkimView,
  domainsWithPendingKeys,
  noRotation,
  notPublished,
  retireDkimKeys,
  rotationInput,
  rotationKeysOf,
} from './dkim.ts';
import { getSubscriptionRow } from './subscriptions.ts';

export const CONTACT_KINDS = ['administrative', 'technical', 'billing'] as const;
export type ContactKind = (typeof CONTACT_KINDS)[number];

export interface ContactView {
  name: string;
  email: string;
  phone: string | null;
}

/** A check as shown: its instant in ISO 8601, like every date the API and the CLI give. */
export type DomainCheckView = Omit<DomainCheck, 'checkedAt'> & { checkedAt: string };

function checkView(check: DomainCheck): DomainCheckView {
  return { ...check, checkedAt: new Date(check.checkedAt).toISOString() };
}

export interface DomainView {
  id: string;
  name: string;
  displayName: string;
  customerId: string;
  subscriptionId: string;
  status: DomainsTable['status'];
  /** The signing key, and during a rotation the pending and previous ones. */
  dkim: DkimRotationView;
  records: ExpectedRecord[];
  lastCheck: DomainCheckView | null;
  contacts: Record<ContactKind, ContactView | null>;
  aliases: { id: string; name: string; displayName: string }[];
  createdAt: string;
}

const NOT_FOUND = text('No such domain', 'Domaine introuvable');

function recordsInput(ctx: AppContext, row: DomainsTable, keys: DkimKeysTable[]) {
  return {
    domain: row.name,
    mxHosts: [...ctx.config.dns.mxHosts],
    spfInclude: ctx.config.dns.spfInclude,
    dkimSelector: row.dkim_selector,
    dkimPublicKey: row.dkim_public_key,
    dkimRotation: rotationInput(keys),
  };
}

async function domainView(ctx: AppContext, row: DomainsTable): Promise<DomainView> {
  const [contacts, aliases, keys] = await Promise.all([
    ctx.db.selectFrom('domain_contacts').selectAll().where('domain_id', '=', row.id).execute(),
    ctx.db.selectFrom('domain_aliases').select(['id', 'name']).where('domain_id', '=', row.id).orderBy('name').execute(),
    rotationKeysOf(ctx.db, row.id),
  ]);
  const contactOf = (kind: ContactKind) => {
    const c = contacts.find((x) => x.kind === kind);
    return c ? { name: c.name, email: c.email, phone: c.phone } : null;
  };
  return {
    id: row.id,
    name: row.name,
    displayName: toUnicodeDomain(row.name),
    customerId: row.customer_id,
    subscriptionId: row.subscription_id,
    status: row.status,
    dkim: dkimView(row, keys),
    records: expectedRecords(recordsInput(ctx, row, keys)),
    lastCheck: row.last_check ? checkView(JSON.parse(row.last_check) as DomainCheck) : null,
    contacts: { administrative: contactOf('administrative'), technical: contactOf('technical'), billing: contactOf('billing') },
    aliases: aliases.map((a) => ({ id: a.id, name: a.name, displayName: toUnicodeDomain(a.name) })),
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** Finds a domain by id or by name (ASCII or Unicode). */
export async function getDomainRow(db: Db, scope: Scope, idOrName: string): Promise<DomainsTable> {
  let query = db.selectFrom('domains').selectAll();
  query = idOrName.startsWith('dom_') ? query.where('id', '=', idOrName) : query.where('name', '=', parseDomainOrEmpty(idOrName));
  if (scope !== null) query = query.where('customer_id', '=', scope);
  return ensureFound(await query.executeTakeFirst(), NOT_FOUND);
}

function parseDomainOrEmpty(name: string): string {
  try {
    return parseDomain(name);
  } catch {
    return '';
  }
}

export async function getDomain(ctx: AppContext, scope: Scope, idOrName: string): Promise<DomainView> {
  return domainView(ctx, await getDomainRow(ctx.db, scope, idOrName));
}

export async function listDomains(ctx: AppContext, scope: Scope, filter: { subscriptionId?: string }): Promise<DomainView[]> {
  let query = ctx.db.selectFrom('domains').selectAll().orderBy('name');
  if (scope !== null) query = query.where('customer_id', '=', scope);
  if (filter.subscriptionId) query = query.where('subscription_id', '=', filter.subscriptionId);
  return Promise.all((await query.execute()).map((row) => domainView(ctx, row)));
}

const takenText = (name: string) => text(`The domain ${name} is already registered`, `Le domaine ${name} est déjà enregistré`);

/**
 * Checks what can be checked before a domain is added (valid name, free, subscription active), so
 * bad input is refused at once; returns the ASCII name.
 */
export async function prepareDomain(ctx: AppContext, scope: Scope, subscriptionId: string, name: string): Promise<string> {
  const ascii = parseDomain(name, 'name');
  const subscription = await getSubscriptionRow(ctx.db, scope, subscriptionId);
  if (subscription.status === 'ended') throw new AppError('conflict', 'subscription-ended', text('The subscription has ended', "L'abonnement est terminé"));
  const taken = await ctx.db.selectFrom('domain_names').select('name').where('name', '=', ascii).executeTakeFirst();
  if (taken) throw new AppError('exists', 'already-exists', takenText(toUnicodeDomain(ascii)), { field: 'name' });
  return ascii;
}

/** Adds a prepared domain: DKIM key, default contacts (the customer's), then the first live check. */
export async function addDomain(
  ctx: AppContext,
  subscriptionId: string,
  ascii: string,
  report: (percent: number, message: string) => Promise<void> = async () => {},
): Promise<DomainView> {
  const subscription = await getSubscriptionRow(ctx.db, null, subscriptionId);
  const customer = await getCustomerRow(ctx, null, subscription.customer_id);
  await report(10, 'generating the DKIM key');
  const key = await generateDkimKey(ctx.config.dns.dkimKeyBits);
  const now = ctx.clock.now();
  const row: DomainsTable = {
    customer_id: subscription.customer_id,
    id: newId('dom'),
    subscription_id: subscriptionId,
    name: ascii,
    status: 'pending',
    dkim_selector: dkimSelector(ctx.config.dns.dkimSelectorPrefix, now),
    dkim_private_key: ctx.secrets.seal('dkim', key.privateKeyPem),
    dkim_public_key: key.publicKey,
    last_check: null,
    checked_at: null,
    created_at: now,
  };
  await ctx.db.transaction().execute(async (trx) => {
    await claimUnique('name', takenText(toUnicodeDomain(ascii)), () =>
      trx.insertInto('domain_names').values({ name: ascii, customer_id: row.customer_id, kind: 'domain', domain_id: row.id }).execute(),
    );
    await trx.insertInto('domains').values(row).execute();
    const contacts: DomainContactsTable[] = CONTACT_KINDS.map((kind) => ({
      customer_id: row.customer_id,
      domain_id: row.id,
      kind,
      name: customer.name,
      email: customer.contact_email,
      phone: customer.phone,
    }));
    await trx.insertInto('domain_contacts').values(contacts).execute();
  });
  ctx.log.info({ event: 'domain.added', domain: ascii, subscription: subscriptionId }, 'domain.added');
  await report(50, 'checking the DNS records');
  return checkDomain(ctx, null, row.id);
}

/**
 * Checks the domain's records live, record by record, and keeps the result. A pending DKIM key whose
 * record is seen starts signing now (then the records are checked again, around the new key).
 */
export async function checkDomain(ctx: AppContext, scope: Scope, idOrName: string): Promise<DomainView> {
  let row = await getDomainRow(ctx.db, scope, idOrName);
  let check = await checkRecords(ctx, row);
  if (pendingRecordOk(check) && (await activatePendingKey(ctx, row))) {
    row = await getDomainRow(ctx.db, null, row.id);
    check = await checkRecords(ctx, row);
  }
  const next: DomainsTable = { ...row, last_check: JSON.stringify(check), checked_at: check.checkedAt, status: check.ok ? 'active' : row.status };
  await ctx.db.updateTable('domains').set({ last_check: next.last_check, checked_at: next.checked_at, status: next.status }).where('id', '=', row.id).execute();
  ctx.log.info({ event: 'domain.checked', domain: row.name, ok: check.ok }, 'domain.checked');
  return domainView(ctx, next);
}

async function checkRecords(ctx: AppContext, row: DomainsTable): Promise<DomainCheck> {
  return checkDomainRecords(ctx.resolver, recordsInput(ctx, row, await rotationKeysOf(ctx.db, row.id)), ctx.clock);
}

function pendingRecordOk(check: DomainCheck): boolean {
  return check.records.some((record) => record.rotation === 'pending' && record.status === 'ok');
}

/** Starts a DKIM key rotation: a new key, pending until its record (shown in `records`) is seen in DNS. */
export async function rotateDkimKey(ctx: AppContext, scope: Scope, idOrName: string): Promise<DomainView> {
  const row = await getDomainRow(ctx.db, scope, idOrName);
  await createPendingKey(ctx, row);
  return domainView(ctx, row);
}

/** Gives up a pending rotation: the current key goes on signing. */
export async function cancelDkimRotation(ctx: AppContext, scope: Scope, idOrName: string): Promise<DomainView> {
  const row = await getDomainRow(ctx.db, scope, idOrName);
  await deletePendingKey(ctx, row);
  return domainView(ctx, row);
}

/**
 * Switches signing to the pending key now, after checking that its record is in DNS (else 409
 * `dkim-not-published`): a key nobody can look up would make every signature fail.
 */
export async function activateDkimKey(ctx: AppContext, scope: Scope, idOrName: string): Promise<DomainView> {
  const row = await getDomainRow(ctx.db, scope, idOrName);
  const check = await checkRecords(ctx, row);
  const pending = check.records.find((record) => record.rotation === 'pending');
  if (!pending) throw noRotation();
  if (pending.status !== 'ok') throw notPublished(pending.host);
  await activatePendingKey(ctx, row);
  return checkDomain(ctx, null, row.id);
}

/** The `dkim.rotate` job: pending keys whose record appeared start signing; previous keys past their grace period are retired. */
export async function runDkimRotations(ctx: AppContext): Promise<{ activated: number; retired: number }> {
  let activated = 0;
  for (const domainId of await domainsWithPendingKeys(ctx)) {
    try {
      const view = await checkDomain(ctx, null, domainId);
      if (view.dkim.pending === null) activated++;
    } catch (error) {
      ctx.log.warn({ event: 'domain.dkim_check_failed', domain: domainId, err: error }, 'domain.dkim_check_failed');
    }
  }
  return { activated, retired: await retireDkimKeys(ctx) };
}

export type ContactsInput = Partial<Record<ContactKind, { name?: string; email?: string; phone?: string | null }>>;

/** Sets the administrative, technical and billing contacts of a domain (R-T1). */
export async function setDomainContacts(ctx: AppContext, scope: Scope, idOrName: string, input: ContactsInput): Promise<DomainView> {
  const row = await getDomainRow(ctx.db, scope, idOrName);
  const rows: DomainContactsTable[] = [];
  for (const kind of CONTACT_KINDS) {
    const contact = input[kind];
    if (!contact) continue;
    rows.push({
      customer_id: row.customer_id,
      domain_id: row.id,
      kind,
      name: requireText(contact.name, `${kind}.name`, 200, text('The contact name', 'Le nom du contact')),
      email: addressKey(parseAddress(contact.email ?? '', `${kind}.email`)),
      phone: contact.phone?.trim() || null,
    });
  }
  await ctx.db.transaction().execute(async (trx) => {
    for (const contact of rows) {
      await trx
        .insertInto('domain_contacts')
        .values(contact)
        .onConflict((oc) => oc.columns(['domain_id', 'kind']).doUpdateSet({ name: contact.name, email: contact.email, phone: contact.phone }))
        .execute();
    }
  });
  return domainView(ctx, row);
}

/** Adds a domain alias: mail to any address at the alias goes to the same address at the domain. */
export async function addDomainAlias(ctx: AppContext, scope: Scope, idOrName: string, name: string): Promise<DomainView> {
  const domain = await getDomainRow(ctx.db, scope, idOrName);
  const ascii = parseDomain(name, 'name');
  const id = newId('dal');
  await ctx.db.transaction().execute(async (trx) => {
    await claimUnique('name', takenText(toUnicodeDomain(ascii)), () =>
      trx.insertInto('domain_names').values({ name: ascii, customer_id: domain.customer_id, kind: 'alias', domain_id: domain.id }).execute(),
    );
    await trx
      .insertInto('domain_aliases')
      .values({ customer_id: domain.customer_id, id, domain_id: domain.id, name: ascii, created_at: ctx.clock.now() })
      .execute();
  });
  return domainView(ctx, domain);
}

export async function removeDomainAlias(ctx: AppContext, scope: Scope, idOrName: string, aliasIdOrName: string): Promise<DomainView> {
  const domain = await getDomainRow(ctx.db, scope, idOrName);
  const alias = await ctx.db
    .selectFrom('domain_aliases')
    .selectAll()
    .where('domain_id', '=', domain.id)
    .where((eb) => eb.or([eb('id', '=', aliasIdOrName), eb('name', '=', parseDomainOrEmpty(aliasIdOrName))]))
    .executeTakeFirst();
  ensureFound(alias, text('No such domain alias', 'Alias de domaine introuvable'));
  await ctx.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('domain_aliases').where('id', '=', alias!.id).execute();
    await trx.deleteFrom('domain_names').where('name', '=', alias!.name).execute();
  });
  return domainView(ctx, domain);
}

/** Removes a domain that no longer has accounts, aliases or lists. */
export async function removeDomain(ctx: AppContext, scope: Scope, idOrName: string): Promise<void> {
  const domain = await getDomainRow(ctx.db, scope, idOrName);
  const inUse = await ctx.db.selectFrom('addresses').select('address').where('address', 'like', `%@${domain.name}`).limit(1).executeTakeFirst();
  if (inUse) {
    throw new AppError(
      'conflict',
      'domain-in-use',
      text('Remove the accounts, aliases and lists of this domain first', "Supprimez d'abord les comptes, alias et listes de ce domaine"),
    );
  }
  await ctx.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('domain_contacts').where('domain_id', '=', domain.id).execute();
    await trx.deleteFrom('dkim_keys').where('domain_id', '=', domain.id).execute();
    await trx.deleteFrom('domain_aliases').where('domain_id', '=', domain.id).execute();
    await trx.deleteFrom('domain_names').where('domain_id', '=', domain.id).execute();
    await trx.deleteFrom('domains').where('id', '=', domain.id).execute();
  });
}
