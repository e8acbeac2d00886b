/** Support tickets (R-T7): the customer admin's own, or every customer's for the operator; a customer admin opens one here. */
import { useState } from 'preact/hooks';
import { Button } from '../../ds/Button.tsx';
import { Empty, Load, Status, Table } from '../../ds/Data.tsx';
import { SelectField, TextArea, TextField } from '../../ds/Field.tsx';
import { Form, useForm } from '../../ds/Form.tsx';
import { announce } from '../../ds/Live.tsx';
import { Page, Section } from '../../ds/Page.tsx';
import { api, query } from '../../lib/api.ts';
import { formatDateTime, messages } from '../../lib/i18n.ts';
import { useResource } from '../../lib/resource.ts';
import { navigate } from '../../lib/router.ts';
import { shared } from '../../messages/shared.ts';
import { areaBase, isOperator } from './where.ts';

export interface Ticket {
  id: string;
  customerId: string;
  subject: string;
  category: string;
  status: 'open' | 'answered' | 'closed';
  openedBy: string;
  createdAt: string;
  updatedAt: string;
  messages?: { id: string; authorRole: string; authorId: string; body: string; createdAt: string }[];
}

const CATEGORIES = ['general', 'unblock', 'restore', 'billing', 'technical'] as const;
type StatusFilter = '' | 'open' | 'answered' | 'closed';

export function ticketTone(status: Ticket['status']) {
  return status === 'closed' ? ('ok' as const) : status === 'answered' ? ('info' as const) : ('warn' as const);
}

function NewTicket() {
  const m = messages(shared).tickets;
  const [subject, setSubject] = useState('');
  const [category, setCategory] = useState<(typeof CATEGORIES)[number]>('general');
  const [body, setBody] = useState('');
  const form = useForm(async () => {
    const created = await api.post<Ticket>('/tickets', { subject, category, body });
    announce(m.opened);
    navigate(`${areaBase()}/tickets/${encodeURIComponent(created.id)}`);
  });
  return (
    <Section title={m.newTitle}>
      <Form form={form} label={m.newTitle}>
        <TextField id="subject" label={m.subject} value={subject} onValue={setSubject} error={form.errorFor('subject')} maxLength={200} />
        <SelectField
          id="category"
          label={m.category}
          value={category}
          onValue={setCategory}
          options={CATEGORIES.map((c) => ({ value: c, label: m.categories[c] as string }))}
        />
        <TextArea id="body" label={m.body} hint={m.bodyHint} value={body} onValue={setBody} error={form.errorFor('body')} rows={6} />
        <div class="form-actions">
          <Button type="submit" variant="primary" busy={form.busy}>
            {m.open}
          </Button>
        </div>
      </Form>
    </Section>
  );
}

export default function Tickets() {
  const m = messages(shared).tickets;
  const operator = isOperator();
  const [status, setStatus] = useState<StatusFilter>('');
  const [list] = useResource(() => api.get<{ items: Ticket[] }>(`/tickets${query({ status, limit: 200 })}`), [status]);
  return (
    <Page title={m.title}>
      <p>{operator ? m.introOperator : m.intro}</p>
      <div class="toolbar">
        <SelectField
          id="ticket-status"
          label={m.filter}
          value={status}
          onValue={setStatus}
          options={[{ value: '', label: m.all }, ...(['open', 'answered', 'closed'] as const).map((s) => ({ value: s, label: m.statuses[s] as string }))]}
        />
      </div>
      <Load resource={list}>
        {(data) =>
          data.items.length === 0 ? (
            <Empty title={m.empty}>{operator ? null : <p>{m.emptyAdmin}</p>}</Empty>
          ) : (
            <Table
              caption={m.caption}
              rows={data.items}
              rowKey={(t) => t.id}
              columns={[
                { label: m.subject, cell: (t) => <a href={`${areaBase()}/tickets/${encodeURIComponent(t.id)}`}>{t.subject}</a> },
                { label: m.category, cell: (t) => m.categories[t.category] ?? t.category },
                { label: m.status, cell: (t) => <Status tone={ticketTone(t.status)}>{m.statuses[t.status]}</Status> },
                ...(operator
                  ? [{ label: m.customer, cell: (t: Ticket) => <a href={`/ops/customers/${encodeURIComponent(t.customerId)}`}>{t.customerId}</a> }]
                  : []),
                { label: m.updated, cell: (t) => formatDateTime(t.updatedAt) },
              ]}
            />
          )
        }
      </Load>
      {operator ? null : <NewTicket />}
    </Page>
  );
}
