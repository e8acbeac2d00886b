/** The scheduled jobs and their last runs (job_runs), read-only. */
import { Load, Status, Table } from '../ds/Data.tsx';
import { Page } from '../ds/Page.tsx';
import { api } from '../lib/api.ts';
import { formatDateTime, messages } from '../lib/i18n.ts';
import { useResource } from '../lib/resource.ts';
import { ops } from '../messages/ops.ts';

interface JobRun {
  name: string;
  schedule: string;
  lastStartedAt: string | null;
  lastFinishedAt: string | null;
  running: boolean;
  lastResult: unknown;
}

export default function Jobs() {
  const m = messages(ops).jobs;
  const [jobs, reload] = useResource(() => api.get<{ items: JobRun[] }>('/jobs'));
  return (
    <Page title={m.title}>
      <p>{m.intro}</p>
      <Load resource={jobs} retry={reload}>
        {(data) => (
          <Table
            caption={m.caption}
            rows={data.items}
            rowKey={(j) => j.name}
            columns={[
              { label: m.name, cell: (j) => <code>{j.name}</code> },
              { label: m.schedule, cell: (j) => <code>{j.schedule}</code> },
              { label: m.started, cell: (j) => formatDateTime(j.lastStartedAt) },
              { label: m.finished, cell: (j) => formatDateTime(j.lastFinishedAt) },
              {
                label: m.state,
                cell: (j) =>
                  j.running ? (
                    <Status tone="info">{m.running}</Status>
                  ) : j.lastStartedAt ? (
                    <Status tone="ok">{m.done}</Status>
                  ) : (
                    <Status tone="warn">{m.never}</Status>
                  ),
              },
              {
                label: m.result,
                cell: (j) => <span class="detail">{j.lastResult === null || j.lastResult === undefined ? '—' : JSON.stringify(j.lastResult)}</span>,
              },
            ]}
          />
        )}
      </Load>
    </Page>
  );
}
