/**
 * The subscription's mail accounts (R-T4): paged by the API's cursors and searched by address on the
 * server, so ten thousand accounts cost one page at a time. The search is in the URL (`?q=`): Back
 * returns to it, and a link to a search can be shared.
 */
import { useState } from 'preact/hooks';
import { Button, LinkButton } from '../../../ds/Button.tsx';
import { Empty, Load, Pager, Status, Table } from '../../../ds/Data.tsx';
import { SelectField } from '../../../ds/Field.tsx';
import { Form, useForm } from '../../../ds/Form.tsx';
import { announce } from '../../../ds/Live.tsx';
import { Page, Section } from '../../../ds/Page.tsx';
import { api, query, seg } from '../../../lib/api.ts';
import { formatNumber, messages } from '../../../lib/i18n.ts';
import { usePaged } from '../../../lib/resource.ts';
import { here, navigate, pathOf, queryOf } from '../../../lib/router.ts';
import { adminMail } from '../../../messages/admin-mail.ts';
import {
  type AccountRow,
  className,
  followOperation,
  type Operation,
  QuotaMeter,
  type SubscriptionDetails,
  WithSubscription,
  withSubscription,
} from './common.tsx';

/** Rows per page: a screenful on a desktop, still quick to read aloud. */
export const PAGE_SIZE = 50;

export const statusTone = (status: AccountRow['status']) => (status === 'active' ? 'ok' : status === 'disabled' ? 'warn' : 'error');

/**
 * Moving every account of a class to another (R-T2, R-T5): one operation, all or nothing, that runs in
 * the background; its progress is shown until it ends, and a refusal (too few licences, another
 * operation running: 409) is the API's message on the field it concerns.
 */
function ReclassForm({ subscription, onDone }: { subscription: SubscriptionDetails; onDone: () => Promise<void> }) {
  const m = messages(adminMail).reclass;
  const offered = subscription.licences.filter((l) => l.quantity > 0);
  const [from, setFrom] = useState(offered[0]?.classId ?? '');
  const [to, setTo] = useState(offered[1]?.classId ?? offered[0]?.classId ?? '');
  const [progress, setProgress] = useState<number | undefined>(undefined);
  const form = useForm(async () => {
    try {
      const started = await api.post<Operation>(`/subscriptions/${seg(subscription.id)}/accounts/reclass`, { fromClassId: from, toClassId: to });
      const done = await followOperation(started, setProgress);
      announce(m.moved((done.result as { moved?: number } | null)?.moved ?? 0, className(subscription.classes, to)));
      await onDone();
    } finally {
      setProgress(undefined);
    }
  });
  const options = offered.map((l) => ({ value: l.classId, label: className(subscription.classes, l.classId) }));
  return (
    <Form form={form} label={m.title} fieldIds={{ classId: 'toClassId', fromClassId: 'fromClassId' }}>
      <p class="hint">{m.intro}</p>
      <SelectField id="fromClassId" label={m.from} value={from} onValue={setFrom} options={options} error={form.errorFor('fromClassId')} />
      <SelectField id="toClassId" label={m.to} value={to} onValue={setTo} options={options} error={form.errorFor('toClassId') ?? form.errorFor('classId')} />
      {progress !== undefined ? (
        <p>
          <label for="reclass-progress">{m.progress}</label>{' '}
          <progress id="reclass-progress" max={100} value={progress}>
            {progress} %
          </progress>
        </p>
      ) : null}
      <div class="form-actions">
        <Button type="submit" busy={form.busy} disabled={from === to}>
          {m.submit}
        </Button>
      </div>
    </Form>
  );
}

function AccountList({ subscription }: { subscription: SubscriptionDetails }) {
  const m = messages(adminMail);
  const search = queryOf(here.value).q ?? '';
  const [typed, setTyped] = useState(search);
  const paged = usePaged(
    (after) =>
      api.get<{ items: AccountRow[]; next: string | null }>(`/subscriptions/${seg(subscription.id)}/accounts${query({ limit: PAGE_SIZE, after, search })}`),
    [subscription.id, search],
  );
  const setSearch = (value: string) => {
    const params = { ...queryOf(here.value), q: value.trim() || undefined };
    navigate(`${pathOf(here.value)}${query(params)}`, { replace: true });
  };
  const free = subscription.licences
    .filter((l) => l.quantity > 0)
    .map((l) => `${className(subscription.classes, l.classId)} ${formatNumber(l.available)}/${formatNumber(l.quantity)}`)
    .join(', ');
  return (
    <>
      <p class="muted">{m.accounts.licences(free)}</p>
      <form
        class="search"
        aria-label={m.accounts.search}
        onSubmit={(event) => {
          event.preventDefault();
          setSearch(typed);
        }}
      >
        {/* A search box is never "optional" nor "required": a plain field, labelled and hinted like the others. */}
        <div class="field">
          <label for="q">{m.accounts.search}</label>
          <p class="hint" id="q-hint">
            {m.accounts.searchHint}
          </p>
          <input
            id="q"
            name="q"
            type="search"
            value={typed}
            aria-describedby="q-hint"
            onInput={(event) => setTyped((event.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <div class="form-actions">
          <Button type="submit">{messages(adminMail).accounts.search}</Button>
          {search ? (
            <Button
              onClick={() => {
                setTyped('');
                setSearch('');
              }}
            >
              {m.accounts.clear}
            </Button>
          ) : null}
        </div>
      </form>
      <Load resource={paged.page} retry={paged.reload}>
        {(page) =>
          page.items.length === 0 && paged.number === 1 ? (
            search ? (
              <Empty title={m.accounts.noMatch(search)} />
            ) : (
              <Empty title={m.accounts.emptyTitle}>
                <p>{m.accounts.emptyBody}</p>
              </Empty>
            )
          ) : (
            <>
              <Table
                caption={m.accounts.caption}
                rowKey={(row) => row.id}
                rows={page.items}
                columns={[
                  { label: m.accounts.address, cell: (row) => <a href={withSubscription(`/admin/accounts/${seg(row.id)}`)}>{row.displayAddress}</a> },
                  { label: m.accounts.name, cell: (row) => row.displayName },
                  { label: m.accounts.class, cell: (row) => className(subscription.classes, row.classId) },
                  { label: m.accounts.status, cell: (row) => <Status tone={statusTone(row.status)}>{m.status[row.status] ?? row.status}</Status> },
                  { label: m.accounts.quota, cell: (row) => <QuotaMeter usage={row.usage} address={row.displayAddress} /> },
                ]}
              />
              <Pager number={paged.number} previous={paged.previous} next={paged.next} label={m.accounts.pager} />
            </>
          )
        }
      </Load>
    </>
  );
}

export default function Accounts() {
  const m = messages(adminMail).accounts;
  // Bumped after a class change of many accounts: the list is read again.
  const [version, setVersion] = useState(0);
  return (
    <Page
      title={m.title}
      actions={
        <LinkButton variant="primary" href={withSubscription('/admin/accounts/new')}>
          {m.add}
        </LinkButton>
      }
    >
      <WithSubscription key={version}>
        {(subscription) => (
          <>
            <AccountList subscription={subscription} />
            <Section title={messages(adminMail).reclass.title}>
              <ReclassForm subscription={subscription} onDone={async () => setVersion(version + 1)} />
            </Section>
          </>
        )}
      </WithSubscription>
    </Page>
  );
}
