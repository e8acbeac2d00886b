/**
 * The user's quarantine (R-S1, R-S4): held messages newest first, a page at a time (cursor pages),
 * each with its reason and score; open one to preview it as text; release or delete from the list.
 */
import { useState } from 'preact/hooks';
import { Button } from '../../ds/Button.tsx';
import { Empty, Load, Pager, Table } from '../../ds/Data.tsx';
import { asProblem, ErrorSummary } from '../../ds/Form.tsx';
import { Page } from '../../ds/Page.tsx';
import { api, type Problem, query, seg } from '../../lib/api.ts';
import { formatDate, formatDateTime, formatNumber, messages } from '../../lib/i18n.ts';
import { usePaged } from '../../lib/resource.ts';
import { user } from '../../messages/user.ts';
import type { QuarantineEntry } from './data.ts';
import { release, senderOf, subjectOf, useDeleteDialog } from './quarantine-actions.tsx';

const PAGE_SIZE = 25;

export function reasonText(entry: Pick<QuarantineEntry, 'reason' | 'score'>): string {
  const m = messages(user).quarantine;
  const reason = m.reasons[entry.reason] ?? entry.reason;
  return entry.reason === 'spam' ? `${reason} (${m.score(formatNumber(entry.score))})` : reason;
}

export default function Quarantine() {
  const m = messages(user).quarantine;
  const paged = usePaged((after) => api.get<{ items: QuarantineEntry[]; next: string | null }>(`/quarantine${query({ limit: PAGE_SIZE, after })}`));
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  const remove = useDeleteDialog(() => paged.reload());
  return (
    <Page title={m.title}>
      <p>{m.intro}</p>
      <ErrorSummary problem={problem} />
      <Load resource={paged.page} retry={paged.reload}>
        {(data) =>
          data.items.length === 0 && paged.number === 1 ? (
            <Empty title={m.emptyTitle}>
              <p>{m.emptyBody}</p>
            </Empty>
          ) : (
            <>
              <Table
                caption={m.caption}
                rowKey={(row) => row.id}
                rows={data.items}
                columns={[
                  {
                    label: m.subject,
                    cell: (row) => <a href={`/me/quarantine/${seg(row.id)}`}>{subjectOf(row)}</a>,
                  },
                  { label: m.from, cell: (row) => <span class="break-anywhere">{senderOf(row)}</span> },
                  { label: m.received, cell: (row) => formatDateTime(row.receivedAt) },
                  { label: m.reason, cell: (row) => reasonText(row) },
                  { label: m.expires, cell: (row) => formatDate(row.expiresAt) },
                  {
                    label: m.actions,
                    cell: (row) => (
                      <div class="form-actions">
                        <Button
                          aria-label={m.releaseLabel(subjectOf(row))}
                          busy={busy === row.id}
                          onClick={async () => {
                            setBusy(row.id);
                            setProblem(undefined);
                            try {
                              await release(row);
                              await paged.reload();
                            } catch (error) {
                              setProblem(asProblem(error));
                            } finally {
                              setBusy(undefined);
                            }
                          }}
                        >
                          {m.release}
                        </Button>
                        <Button variant="danger" aria-label={m.deleteLabel(subjectOf(row))} onClick={() => remove.ask(row)}>
                          {m.delete}
                        </Button>
                      </div>
                    ),
                  },
                ]}
              />
              <Pager number={paged.number} previous={paged.previous} next={paged.next} label={m.pager} />
            </>
          )
        }
      </Load>
      {remove.dialog}
    </Page>
  );
}
