/** The operations journal (R-T5): who did what, when, with which result; newest first, paged. */
import { useState } from 'preact/hooks';
import { Empty, Load, Pager, Status, Table } from '../../ds/Data.tsx';
import { SelectField } from '../../ds/Field.tsx';
import { Page } from '../../ds/Page.tsx';
import { api, query } from '../../lib/api.ts';
import { formatDateTime, formatNumber, lang, messages } from '../../lib/i18n.ts';
import { usePaged } from '../../lib/resource.ts';
import { shared } from '../../messages/shared.ts';
import { shortText } from './where.ts';

interface Operation {
  id: string;
  kind: string;
  status: 'running' | 'succeeded' | 'failed';
  progress: number;
  progressMessage: string | null;
  customerId: string | null;
  subscriptionId: string | null;
  actor: { role: string; id: string };
  error: unknown;
  createdAt: string;
  finishedAt: string | null;
  durationMs: number | null;
}

const PAGE = 50;
type Filter = '' | Operation['status'];

function errorText(error: unknown): string {
  if (error && typeof error === 'object' && lang.value in error) return shortText((error as Record<string, unknown>)[lang.value]);
  return shortText(error);
}

export default function Journal() {
  const m = messages(shared);
  const [status, setStatus] = useState<Filter>('');
  const paged = usePaged(
    async (after) => {
      // The API's cursor (`next`): every operation once, even those started in the same millisecond.
      return api.get<{ items: Operation[]; next: string | null }>(`/operations${query({ status, limit: PAGE, after })}`);
    },
    [status],
  );
  const tone = { running: 'info', succeeded: 'ok', failed: 'error' } as const;
  return (
    <Page title={m.journal.title}>
      <p>{m.journal.intro}</p>
      <div class="toolbar">
        <SelectField
          id="journal-status"
          label={m.journal.filter}
          value={status}
          onValue={setStatus}
          options={[
            { value: '', label: m.journal.all },
            ...(['running', 'succeeded', 'failed'] as const).map((s) => ({ value: s, label: m.journal.statuses[s] as string })),
          ]}
        />
      </div>
      <Load resource={paged.page} retry={paged.reload}>
        {(data) =>
          data.items.length === 0 ? (
            <Empty title={m.journal.empty} />
          ) : (
            <Table
              caption={m.journal.caption}
              rows={data.items}
              rowKey={(op) => op.id}
              columns={[
                { label: m.journal.at, cell: (op) => formatDateTime(op.createdAt) },
                {
                  label: m.journal.what,
                  cell: (op) => (
                    <>
                      {m.actions[op.kind] ?? op.kind} <code class="muted">{op.kind}</code>
                    </>
                  ),
                },
                { label: m.journal.who, cell: (op) => `${m.roleName[op.actor.role] ?? op.actor.role} (${op.actor.id})` },
                {
                  label: m.journal.result,
                  cell: (op) => (
                    <>
                      <Status tone={tone[op.status]}>
                        {m.journal.statuses[op.status]}
                        {op.status === 'running' ? ` ${m.journal.progress(op.progress)}` : ''}
                      </Status>
                      {op.status === 'failed' && op.error ? <span class="detail"> {errorText(op.error)}</span> : null}
                    </>
                  ),
                },
                { label: m.journal.duration, numeric: true, cell: (op) => (op.durationMs === null ? '—' : `${formatNumber(op.durationMs)} ms`) },
              ]}
            />
          )
        }
      </Load>
      <Pager label={m.journal.title} number={paged.number} previous={paged.previous} next={paged.next} />
    </Page>
  );
}
