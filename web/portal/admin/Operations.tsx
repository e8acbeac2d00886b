/**
 * The subscription's operations journal (R-T5): who did what, when, and how it ended (a refusal with
 * its reason in the user's language), newest first, paged, filtered by result. Operator actions on the
 * subscription are shown as the provider's (R-A2).
 */
import { useState } from 'preact/hooks';
import { Empty, Load, Pager, Status, Table } from '../../ds/Data.tsx';
import { SelectField } from '../../ds/Field.tsx';
import { Page, Section } from '../../ds/Page.tsx';
import { api, query, seg } from '../../lib/api.ts';
import { formatDateTime, formatNumber, lang, messages } from '../../lib/i18n.ts';
import { type PageOf, usePaged, useResource } from '../../lib/resource.ts';
import { session } from '../../lib/session.ts';
import { subscriptionTexts } from '../../messages/admin-subscription.ts';
import { kindLabel } from './operation.tsx';
import { loadSubscriptions, SubscriptionPicker, selectedId } from './subscriptions.tsx';
import type { Operation } from './types.ts';

const PAGE_SIZE = 25;
type Filter = 'all' | 'running' | 'succeeded' | 'failed';

export default function Operations() {
  const m = messages(subscriptionTexts);
  const [subscriptions, reload] = useResource(loadSubscriptions);
  return (
    <Page title={m.journal.title}>
      <p class="muted">{m.journal.intro}</p>
      <Load resource={subscriptions} retry={reload}>
        {(list) => {
          const id = selectedId(list);
          if (!id) {
            return (
              <Empty title={m.picker.none}>
                <p>{m.picker.noneBody}</p>
              </Empty>
            );
          }
          return (
            <>
              <SubscriptionPicker subscriptions={list} selected={id} />
              <Journal key={id} subscriptionId={id} />
            </>
          );
        }}
      </Load>
    </Page>
  );
}

type Actor = { kind: 'admin' | 'token'; name: string };

/** Who: the provider's staff, one of the customer's administrators by e-mail address, or one of its API tokens by name. */
function useActors() {
  const customerId = session.value?.customerId;
  const [names] = useResource(async () => {
    if (!customerId) return new Map<string, Actor>();
    const [admins, tokens] = await Promise.all([
      api.get<{ items: { id: string; email: string }[] }>(`/customers/${seg(customerId)}/admins`),
      api.get<{ items: { id: string; name: string }[] }>(`/customers/${seg(customerId)}/tokens`),
    ]);
    const known = new Map<string, Actor>();
    for (const a of admins.items) known.set(a.id, { kind: 'admin', name: a.email });
    for (const t of tokens.items) known.set(t.id, { kind: 'token', name: t.name });
    return known;
  }, [customerId]);
  return (actor: Operation['actor']) => {
    const m = messages(subscriptionTexts).journal;
    if (actor.role === 'operator') return m.provider;
    const known = names.status === 'ready' ? names.data.get(actor.id) : undefined;
    if (known?.kind === 'token') return m.token(known.name);
    const name = known ? m.admin(known.name) : m.unknownAdmin(actor.id);
    return actor.id === session.value?.id ? `${m.you} (${name})` : name;
  };
}

/** The object of an operation, from its parameters (a domain, a label's name…), shown as text. */
function objectOf(op: Operation): string {
  const p = op.params ?? {};
  const o = messages(subscriptionTexts).overview;
  if (p.billingCycle === 'monthly' || p.billingCycle === 'quarterly' || p.billingCycle === 'yearly') return o.cycles[p.billingCycle];
  if (typeof p.months === 'number') return o.months(p.months);
  for (const key of ['domain', 'alias', 'name', 'address']) {
    const value = p[key];
    if (typeof value === 'string') return value;
  }
  return '';
}

function Journal({ subscriptionId }: { subscriptionId: string }) {
  const m = messages(subscriptionTexts).journal;
  const [filter, setFilter] = useState<Filter>('all');
  const who = useActors();
  const paged = usePaged<Operation>(
    (after) => api.get<PageOf<Operation>>(`/operations${query({ subscriptionId, limit: PAGE_SIZE, after, status: filter === 'all' ? undefined : filter })}`),
    [subscriptionId, filter],
  );
  return (
    <Section title={m.caption}>
      <SelectField
        id="journal-filter"
        label={m.filter}
        value={filter}
        options={(['all', 'running', 'succeeded', 'failed'] as const).map((value) => ({ value, label: m.statuses[value] }))}
        onValue={setFilter}
      />
      <Load resource={paged.page} retry={paged.reload}>
        {({ items }) =>
          items.length ? (
            <Table
              caption={m.caption}
              rowKey={(op) => op.id}
              rows={items}
              columns={[
                { label: m.when, cell: (op) => <span class="wrap-anywhere">{formatDateTime(op.createdAt)}</span> },
                {
                  label: m.what,
                  cell: (op) => (
                    <span class="wrap-anywhere">
                      {kindLabel(op.kind)}
                      {objectOf(op) ? (
                        <>
                          {' '}
                          <span class="muted">{objectOf(op)}</span>
                        </>
                      ) : null}
                    </span>
                  ),
                },
                { label: m.who, cell: (op) => <span class="wrap-anywhere">{who(op.actor)}</span> },
                {
                  label: m.result,
                  cell: (op) =>
                    op.status === 'succeeded' ? (
                      <Status tone="ok">{m.succeeded}</Status>
                    ) : op.status === 'failed' ? (
                      <span class="wrap-anywhere">
                        <Status tone="error">{m.failed}</Status>
                        {op.error ? <span class="muted block">{op.error[lang.value]}</span> : null}
                      </span>
                    ) : (
                      <Status tone="info">{m.running(formatNumber(op.progress))}</Status>
                    ),
                },
                { label: m.duration, numeric: true, cell: (op) => (op.durationMs === null ? '—' : m.ms(formatNumber(op.durationMs))) },
              ]}
            />
          ) : (
            <Empty title={m.none}>
              <p>{m.noneBody}</p>
            </Empty>
          )
        }
      </Load>
      <Pager number={paged.number} previous={paged.previous} next={paged.next} label={m.pager} />
    </Section>
  );
}
