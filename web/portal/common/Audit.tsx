/**
 * The audit log (R-A2): what the provider's staff did, each access to a message with the reason given.
 * A customer admin sees those on its customer, a user those on its mailbox, the operator all (the API scopes it).
 */
import { Empty, Load, Pager, Status, Table } from '../../ds/Data.tsx';
import { Page } from '../../ds/Page.tsx';
import { api, query } from '../../lib/api.ts';
import { formatDateTime, messages } from '../../lib/i18n.ts';
import { usePaged } from '../../lib/resource.ts';
import { session } from '../../lib/session.ts';
import { shared } from '../../messages/shared.ts';

interface AuditEntry {
  id: string;
  at: string;
  action: string;
  status: 'running' | 'succeeded' | 'failed';
  actorId: string;
  actorEmail: string | null;
  customerId: string | null;
  accountId: string | null;
  reason: string | null;
  contentAccess: boolean;
}

export default function Audit() {
  const m = messages(shared);
  const role = session.value?.role;
  const paged = usePaged((after) => api.get<{ items: AuditEntry[]; next: string | null }>(`/audit${query({ limit: 50, after })}`));
  const tone = { running: 'info', succeeded: 'ok', failed: 'error' } as const;
  return (
    <Page title={role === 'user' ? m.audit.titleUser : m.audit.title}>
      <p>{role === 'user' ? m.audit.introUser : role === 'operator' ? m.audit.introOperator : m.audit.intro}</p>
      <Load resource={paged.page} retry={paged.reload}>
        {(data) =>
          data.items.length === 0 ? (
            <Empty title={m.audit.empty}>
              <p>{m.audit.emptyHint}</p>
            </Empty>
          ) : (
            <Table
              caption={m.audit.caption}
              rows={data.items}
              rowKey={(e) => e.id}
              columns={[
                { label: m.audit.at, cell: (e) => formatDateTime(e.at) },
                { label: m.audit.who, cell: (e) => e.actorEmail ?? `${m.roleName.operator} (${e.actorId})` },
                {
                  label: m.audit.what,
                  cell: (e) => (
                    <>
                      {e.contentAccess ? <Status tone="warn">{m.audit.contentAccess}</Status> : null} {m.actions[e.action] ?? e.action}
                    </>
                  ),
                },
                { label: m.audit.reason, cell: (e) => e.reason ?? '—' },
                { label: m.audit.result, cell: (e) => <Status tone={tone[e.status]}>{m.journal.statuses[e.status]}</Status> },
              ]}
            />
          )
        }
      </Load>
      <Pager label={m.audit.title} number={paged.number} previous={paged.previous} next={paged.next} />
    </Page>
  );
}
