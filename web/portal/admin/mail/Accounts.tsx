/**
 * The subscription's mail accounts (R-T4): paged by the API's cursors and searched by address on the
 * server, so ten thousand accounts cost one page at a time. The search is in the URL (`?q=`): Back
 * returns to it, and a link to a search can be shared.
 */
import { useState } from 'preact/hooks';
import { Button, LinkButton } from '../../../ds/Button.tsx';
import { Empty, Load, Pager, Status, Table } from '../../../ds/Data.tsx';
import { TextField } from '../../../ds/Field.tsx';
import { Page } from '../../../ds/Page.tsx';
import { api, query, seg } from '../../../lib/api.ts';
import { formatNumber, messages } from '../../../lib/i18n.ts';
import { usePaged } from '../../../lib/resource.ts';
import { here, navigate, pathOf, queryOf } from '../../../lib/router.ts';
import { adminMail } from '../../../messages/admin-mail.ts';
import { type AccountRow, className, QuotaMeter, type SubscriptionDetails, WithSubscription, withSubscription } from './common.tsx';

/** Rows per page: a screenful on a desktop, still quick to read aloud. */
export const PAGE_SIZE = 50;

export const statusTone = (status: AccountRow['status']) => (status === 'active' ? 'ok' : status === 'disabled' ? 'warn' : 'error');

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
        <TextField id="q" label={m.accounts.search} hint={m.accounts.searchHint} type="search" value={typed} onValue={setTyped} optional />
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
  return (
    <Page
      title={m.title}
      actions={
        <LinkButton variant="primary" href={withSubscription('/admin/accounts/new')}>
          {m.add}
        </LinkButton>
      }
    >
      <WithSubscription>{(subscription) => <AccountList subscription={subscription} />}</WithSubscription>
    </Page>
  );
}
