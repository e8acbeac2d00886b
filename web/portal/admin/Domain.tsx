/**
 * One domain (R-T1, R-T3, R-T4): the DNS wizard — every record to publish with Copy buttons (a TXT
 * value over 255 characters also as the quoted strings some DNS hosts ask for), the same as a zone
 * file, and "Check again" running the API's live check, with each record's status in words and icon
 * and, when it is not right, what was expected and what DNS holds —; the DKIM key and its rotation;
 * domain aliases; the administrative, technical and billing contacts.
 */
import { useState } from 'preact/hooks';
import { Button } from '../../ds/Button.tsx';
import { CopyButton, CopyValue } from '../../ds/Copy.tsx';
import { Load, Status } from '../../ds/Data.tsx';
import { ConfirmDialog } from '../../ds/Dialog.tsx';
import { TextField } from '../../ds/Field.tsx';
import { Form, useForm } from '../../ds/Form.tsx';
import { announce } from '../../ds/Live.tsx';
import { Page, Section } from '../../ds/Page.tsx';
import { api, query, seg } from '../../lib/api.ts';
import { formatDate, formatDateTime, lang, messages } from '../../lib/i18n.ts';
import { useResource } from '../../lib/resource.ts';
import { navigate, type Params } from '../../lib/router.ts';
import { subscriptionTexts } from '../../messages/admin-subscription.ts';
import { MAX_STRING, quotedStrings, zoneFile } from './dns.ts';
import type { CheckedRecord, ContactKind, DnsRecord, Domain, RecordStatus } from './types.ts';

const CONTACT_KINDS: readonly ContactKind[] = ['administrative', 'technical', 'billing'];
const TONES: Record<RecordStatus | 'unknown', 'ok' | 'warn' | 'error' | 'info'> = {
  ok: 'ok',
  missing: 'error',
  wrong: 'error',
  error: 'warn',
  unknown: 'info',
};

export default function DomainPage({ params }: { params: Params }) {
  const [domain, reload] = useResource(() => api.get<Domain>(`/domains/${seg(params.id ?? '')}`), [params.id]);
  const title = domain.status === 'ready' || domain.status === 'refreshing' ? domain.data.displayName : messages(subscriptionTexts).domains.title;
  return (
    <Page title={title}>
      <Load resource={domain} retry={reload}>
        {(d) => <DomainView domain={d} reload={reload} />}
      </Load>
    </Page>
  );
}

function DomainView({ domain, reload }: { domain: Domain; reload: () => Promise<void> }) {
  const m = messages(subscriptionTexts);
  return (
    <>
      <p>
        <a href={`/admin/domains${query({ s: domain.subscriptionId })}`}>{m.domain.back}</a>
      </p>
      <Wizard domain={domain} reload={reload} />
      <ZoneFile domain={domain} />
      <Dkim domain={domain} reload={reload} />
      <Aliases domain={domain} reload={reload} />
      <Contacts domain={domain} reload={reload} />
      <RemoveDomain domain={domain} />
    </>
  );
}

function checkOf(domain: Domain, record: DnsRecord): CheckedRecord | undefined {
  return domain.lastCheck?.records.find((r) => r.kind === record.kind && r.host === record.host && (r.rotation ?? '') === (record.rotation ?? ''));
}

function recordTitle(record: DnsRecord): string {
  const m = messages(subscriptionTexts).domain;
  if (record.rotation === 'pending') return m.pendingKey;
  if (record.rotation === 'previous') return m.previousKey;
  return m.kinds[record.kind];
}

function Wizard({ domain, reload }: { domain: Domain; reload: () => Promise<void> }) {
  const m = messages(subscriptionTexts).domain;
  const runCheck = async () => {
    const checked = await api.post<Domain>(`/domains/${seg(domain.id)}/check`);
    announce(m.checked(checked.lastCheck?.ok ?? false));
    await reload();
  };
  const check = useForm(runCheck);
  const toFix = domain.records.filter((r) => !r.rotation && checkOf(domain, r)?.status !== 'ok').length;
  return (
    <Section
      title={m.wizard}
      actions={
        <Button variant="primary" busy={check.busy} onClick={() => void check.run(runCheck)}>
          {m.check}
        </Button>
      }
    >
      <dl class="facts wrap-anywhere">
        <dt>{m.status}</dt>
        <dd>
          <Status tone={domain.status === 'active' ? 'ok' : 'warn'}>{messages(subscriptionTexts).domains.statuses[domain.status]}</Status>
        </dd>
        <dt>{m.lastCheck}</dt>
        <dd>{domain.lastCheck ? formatDateTime(domain.lastCheck.checkedAt) : m.never}</dd>
      </dl>
      <div role="status" class={`notice ${domain.lastCheck?.ok ? 'notice-ok' : 'notice-warn'}`}>
        <p>{domain.lastCheck?.ok ? m.allOk : m.notAllOk(toFix)}</p>
      </div>
      {check.problem ? (
        <div class="notice notice-error" role="alert">
          <p>{check.problem.detail || check.problem.title}</p>
        </div>
      ) : null}
      <p class="muted">{m.wizardIntro}</p>
      <p class="muted">{m.propagation}</p>
      {domain.records.map((record) => (
        <RecordCard key={`${record.kind}-${record.host}-${record.rotation ?? ''}`} record={record} check={checkOf(domain, record)} />
      ))}
    </Section>
  );
}

function RecordCard({ record, check }: { record: DnsRecord; check: CheckedRecord | undefined }) {
  const m = messages(subscriptionTexts).domain;
  const title = recordTitle(record);
  const status = check?.status ?? 'unknown';
  const headingId = `record-${record.kind}-${record.rotation ?? 'current'}-${record.host}`.replace(/[^a-zA-Z0-9_-]/g, '-');
  return (
    <article class="record" aria-labelledby={headingId}>
      <div class="section-head">
        <h3 id={headingId}>{title}</h3>
        <Status tone={TONES[status]}>{m.statuses[status]}</Status>
      </div>
      <p class="muted">{record.description[lang.value]}</p>
      <dl class="facts wrap-anywhere">
        <dt>{m.type}</dt>
        <dd>
          <code>{record.type}</code>
        </dd>
        <dt>{m.host}</dt>
        <dd>
          <CopyValue value={record.host} label={m.copyHost(title)} />
        </dd>
        {record.type === 'MX' && record.priority !== undefined ? (
          <>
            <dt>{m.priority}</dt>
            <dd>
              <code>{record.priority}</code>
            </dd>
          </>
        ) : null}
        <dt>{m.value}</dt>
        <dd>
          <CopyValue value={record.type === 'MX' ? (record.value.split(/\s+/)[1] ?? record.value) : record.value} label={m.copyValue(title)} />
          {record.type === 'TXT' && record.value.length > MAX_STRING ? (
            <div class="split">
              <p class="hint">{m.split}</p>
              <CopyValue value={quotedStrings(record.value)} label={m.copyStrings(title)} />
            </div>
          ) : null}
        </dd>
      </dl>
      {check && check.status !== 'ok' ? (
        <div class="notice notice-error fix">
          <h4>{m.fix}</h4>
          <p>{check.message[lang.value]}</p>
          <dl class="facts wrap-anywhere">
            <dt>{m.expected}</dt>
            <dd>
              <code>{record.value}</code>
            </dd>
            <dt>{m.found}</dt>
            <dd>
              {check.found.length ? (
                <ul class="plain-list">
                  {check.found.map((value) => (
                    <li key={value}>
                      <code>{value}</code>
                    </li>
                  ))}
                </ul>
              ) : (
                m.foundNothing
              )}
            </dd>
          </dl>
        </div>
      ) : null}
    </article>
  );
}

function ZoneFile({ domain }: { domain: Domain }) {
  const m = messages(subscriptionTexts).domain;
  const text = zoneFile(domain.records);
  return (
    <Section title={m.zone} actions={<CopyButton value={text} label={m.copyZone} />}>
      <p class="muted">{m.zoneIntro}</p>
      <pre class="zone">
        <code>{text}</code>
      </pre>
    </Section>
  );
}

function Dkim({ domain, reload }: { domain: Domain; reload: () => Promise<void> }) {
  const m = messages(subscriptionTexts).domain;
  // The selector being discarded, kept while the dialog is open: the reload after confirming empties
  // `pending`, and the dialog must stay mounted to close (and report its closing) itself.
  const [cancelling, setCancelling] = useState<string | undefined>(undefined);
  const action = useForm(async () => undefined);
  const pending = domain.dkim.pending;
  return (
    <Section title={m.dkim}>
      <p>{m.dkimIntro(domain.dkim.selector)}</p>
      {domain.dkim.previous.map((key) => (
        <p key={key.selector}>{m.previous(key.selector, formatDate(key.retireAt))}</p>
      ))}
      <Form form={action} label={m.dkim}>
        {pending ? (
          <>
            <p>
              <Status tone="warn">{m.pending(pending.selector)}</Status>
            </p>
            <div class="form-actions">
              <Button
                variant="primary"
                busy={action.busy}
                onClick={() =>
                  void action.run(async () => {
                    await api.post(`/domains/${seg(domain.id)}/dkim/activate`);
                    announce(m.activated);
                    await reload();
                  })
                }
              >
                {m.activate}
              </Button>
              <Button onClick={() => setCancelling(pending.selector)}>{m.cancelRotation}</Button>
            </div>
          </>
        ) : (
          <>
            <p class="muted">{m.rotateIntro}</p>
            <div class="form-actions">
              <Button
                busy={action.busy}
                onClick={() =>
                  void action.run(async () => {
                    await api.post(`/domains/${seg(domain.id)}/dkim/rotate`);
                    announce(m.rotated);
                    await reload();
                  })
                }
              >
                {m.rotate}
              </Button>
            </div>
          </>
        )}
      </Form>
      {cancelling ? (
        <ConfirmDialog
          title={m.cancelRotationTitle}
          confirmLabel={m.cancelRotation}
          onClose={() => setCancelling(undefined)}
          onConfirm={async () => {
            await api.delete(`/domains/${seg(domain.id)}/dkim/pending`);
            announce(m.rotationCancelled);
            await reload();
          }}
        >
          <p>{m.cancelRotationBody(cancelling)}</p>
        </ConfirmDialog>
      ) : null}
    </Section>
  );
}

function Aliases({ domain, reload }: { domain: Domain; reload: () => Promise<void> }) {
  const m = messages(subscriptionTexts).domain;
  const [name, setName] = useState('');
  const [removing, setRemoving] = useState<{ id: string; displayName: string } | undefined>(undefined);
  const form = useForm(async () => {
    await api.post(`/domains/${seg(domain.id)}/aliases`, { name: name.trim() });
    announce(m.aliasAdded(name.trim()));
    setName('');
    await reload();
  });
  return (
    <Section title={m.aliases}>
      <p class="muted">{m.aliasesIntro(domain.displayName)}</p>
      {domain.aliases.length ? (
        <ul class="plain-list" aria-label={m.aliasesCaption}>
          {domain.aliases.map((alias) => (
            <li key={alias.id} class="row">
              <span class="wrap-anywhere">{alias.displayName}</span>
              <Button variant="danger" onClick={() => setRemoving(alias)}>
                {m.removeAlias(alias.displayName)}
              </Button>
            </li>
          ))}
        </ul>
      ) : (
        <p>{m.noAliases}</p>
      )}
      <Form form={form} label={m.addAlias} fieldIds={{ name: 'alias-name' }}>
        <TextField id="alias-name" label={m.aliasName} value={name} onValue={setName} maxLength={255} error={form.errorFor('name')} />
        <div class="form-actions">
          <Button type="submit" variant="primary" busy={form.busy}>
            {m.addAlias}
          </Button>
        </div>
      </Form>
      {removing ? (
        <ConfirmDialog
          title={m.removeAliasTitle}
          confirmLabel={m.removeAlias(removing.displayName)}
          onClose={() => setRemoving(undefined)}
          onConfirm={async () => {
            await api.delete(`/domains/${seg(domain.id)}/aliases/${seg(removing.id)}`);
            announce(m.aliasRemoved(removing.displayName));
            await reload();
          }}
        >
          <p>{m.removeAliasBody(removing.displayName, domain.displayName)}</p>
        </ConfirmDialog>
      ) : null}
    </Section>
  );
}

type ContactDraft = { name: string; email: string; phone: string };

function Contacts({ domain, reload }: { domain: Domain; reload: () => Promise<void> }) {
  const m = messages(subscriptionTexts).domain;
  const [draft, setDraft] = useState<Record<ContactKind, ContactDraft>>(() => {
    const out = {} as Record<ContactKind, ContactDraft>;
    for (const kind of CONTACT_KINDS) {
      const c = domain.contacts[kind];
      out[kind] = { name: c?.name ?? '', email: c?.email ?? '', phone: c?.phone ?? '' };
    }
    return out;
  });
  const set = (kind: ContactKind, field: keyof ContactDraft) => (value: string) => setDraft({ ...draft, [kind]: { ...draft[kind], [field]: value } });
  const form = useForm(async () => {
    const body: Record<string, { name: string; email: string; phone: string | null }> = {};
    for (const kind of CONTACT_KINDS) {
      const c = draft[kind];
      if (c.name.trim() || c.email.trim() || c.phone.trim()) body[kind] = { name: c.name.trim(), email: c.email.trim(), phone: c.phone.trim() || null };
    }
    await api.put(`/domains/${seg(domain.id)}/contacts`, body);
    announce(m.contactsSaved);
    await reload();
  });
  const fieldIds: Record<string, string> = {};
  for (const kind of CONTACT_KINDS) for (const field of ['name', 'email', 'phone']) fieldIds[`${kind}.${field}`] = `contact-${kind}-${field}`;
  return (
    <Section title={m.contacts}>
      <p class="muted">{m.contactsIntro}</p>
      <Form form={form} label={m.contacts} fieldIds={fieldIds}>
        <div class="grid">
          {CONTACT_KINDS.map((kind) => (
            <fieldset key={kind} class="fieldset">
              <legend>{m.contactKinds[kind]}</legend>
              <TextField
                id={`contact-${kind}-name`}
                label={m.contactName}
                optional
                value={draft[kind].name}
                onValue={set(kind, 'name')}
                maxLength={200}
                autoComplete="off"
                error={form.errorFor(`${kind}.name`)}
              />
              <TextField
                id={`contact-${kind}-email`}
                label={m.contactEmail}
                type="email"
                optional
                value={draft[kind].email}
                onValue={set(kind, 'email')}
                maxLength={320}
                autoComplete="off"
                error={form.errorFor(`${kind}.email`)}
              />
              <TextField
                id={`contact-${kind}-phone`}
                label={m.contactPhone}
                type="tel"
                optional
                value={draft[kind].phone}
                onValue={set(kind, 'phone')}
                maxLength={40}
                autoComplete="off"
                error={form.errorFor(`${kind}.phone`)}
              />
            </fieldset>
          ))}
        </div>
        <div class="form-actions">
          <Button type="submit" variant="primary" busy={form.busy}>
            {m.saveContacts}
          </Button>
        </div>
      </Form>
    </Section>
  );
}

function RemoveDomain({ domain }: { domain: Domain }) {
  const m = messages(subscriptionTexts).domain;
  const [asking, setAsking] = useState(false);
  return (
    <Section title={m.remove}>
      <p class="muted">{m.removeIntro}</p>
      <Button variant="danger" onClick={() => setAsking(true)}>
        {m.remove}
      </Button>
      {asking ? (
        <ConfirmDialog
          title={m.removeTitle}
          confirmLabel={m.remove}
          onClose={() => setAsking(false)}
          onConfirm={async () => {
            await api.delete(`/domains/${seg(domain.id)}`);
            announce(m.removed(domain.displayName));
            navigate(`/admin/domains${query({ s: domain.subscriptionId })}`);
          }}
        >
          <p>{m.removeBody(domain.displayName)}</p>
          {domain.aliases.length ? <p>{m.removeAliases(domain.aliases.length)}</p> : null}
        </ConfirmDialog>
      ) : null}
    </Section>
  );
}
