/** The outbound queue (R-M2), read-only: what waits to be sent to other domains, soonest first, paged. */
import { useState } from 'preact/hooks';
import { Button } from '../ds/Button.tsx';
import { Empty, Load, Pager, Status, Table } from '../ds/Data.tsx';
import { Checkbox, TextField } from '../ds/Field.tsx';
import { Page } from '../ds/Page.tsx';
import { api, query } from '../lib/api.ts';
import { formatBytes, formatDateTime, formatNumber, messages } from '../lib/i18n.ts';
import { usePaged } from '../lib/resource.ts';
import { ops } from '../messages/ops.ts';

interface QueueEntry {
  id: string;
  sender: string;
  recipient: string;
  domain: string;
  size: number;
  status: 'queued' | 'deferred' | 'sending';
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
}

export default function Queue() {
  const m = messages(ops).queue;
  const [domain, setDomain] = useState('');
  const [deferred, setDeferred] = useState(false);
  const [filter, setFilter] = useState({ domain: '', deferred: false });
  const paged = usePaged(
    (after) =>
      api.get<{ items: QueueEntry[]; next: string | null }>(
        `/queue${query({ limit: 50, after, domain: filter.domain, deferred: filter.deferred || undefined })}`,
      ),
    [filter.domain, filter.deferred],
  );
  const tone = { queued: 'info', deferred: 'warn', sending: 'ok' } as const;
  return (
    <Page title={m.title}>
      <p>{m.intro}</p>
      <form
        class="toolbar"
        aria-label={m.filter}
        onSubmit={(event) => {
          event.preventDefault();
          setFilter({ domain: domain.trim(), deferred });
        }}
      >
        <TextField id="queue-domain" type="search" label={m.domain} optional value={domain} onValue={setDomain} />
        <Checkbox id="queue-deferred" label={m.deferredOnly} checked={deferred} onValue={setDeferred} />
        <Button type="submit">{m.filter}</Button>
      </form>
      <Load resource={paged.page} retry={paged.reload}>
        {(data) =>
          data.items.length === 0 ? (
            <Empty title={m.empty} />
          ) : (
            <Table
              caption={m.caption}
              rows={data.items}
              rowKey={(e) => e.id}
              columns={[
                { label: m.recipient, cell: (e) => e.recipient },
                { label: m.sender, cell: (e) => e.sender || '<>' },
                { label: m.status, cell: (e) => <Status tone={tone[e.status]}>{m.statuses[e.status]}</Status> },
                { label: m.attempts, numeric: true, cell: (e) => formatNumber(e.attempts) },
                { label: m.next, cell: (e) => formatDateTime(e.nextAttemptAt) },
                { label: m.lastError, cell: (e) => e.lastError ?? '—' },
                { label: m.size, numeric: true, cell: (e) => formatBytes(e.size) },
              ]}
            />
          )
        }
      </Load>
      <Pager label={m.caption} number={paged.number} previous={paged.previous} next={paged.next} />
    </Page>
  );
}
