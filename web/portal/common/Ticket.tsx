/** One support ticket (R-T7): its messages as plain text, a reply, and closing it. */
import { useState } from 'preact/hooks';
import { Button } from '../../ds/Button.tsx';
import { Load, Status } from '../../ds/Data.tsx';
import { ConfirmDialog } from '../../ds/Dialog.tsx';
import { TextArea } from '../../ds/Field.tsx';
import { Form, useForm } from '../../ds/Form.tsx';
import { announce } from '../../ds/Live.tsx';
import { Page, Section } from '../../ds/Page.tsx';
import { api, seg } from '../../lib/api.ts';
import { formatDateTime, messages } from '../../lib/i18n.ts';
import { useResource } from '../../lib/resource.ts';
import type { Params } from '../../lib/router.ts';
import { shared } from '../../messages/shared.ts';
import { type Ticket as TicketData, ticketTone } from './Tickets.tsx';
import { areaBase, isOperator } from './where.ts';

function Reply({ id, done }: { id: string; done: () => void }) {
  const m = messages(shared).ticket;
  const [body, setBody] = useState('');
  const form = useForm(async () => {
    await api.post(`/tickets/${seg(id)}/messages`, { body });
    setBody('');
    announce(m.sent);
    done();
  });
  return (
    <Section title={m.reply}>
      <Form form={form} label={m.reply}>
        <TextArea id="reply" label={m.replyLabel} value={body} onValue={setBody} error={form.errorFor('body')} rows={5} />
        <div class="form-actions">
          <Button type="submit" variant="primary" busy={form.busy}>
            {m.send}
          </Button>
        </div>
      </Form>
    </Section>
  );
}

export default function Ticket({ params }: { params: Params }) {
  const m = messages(shared);
  const id = params.id as string;
  const [ticket, reload] = useResource(() => api.get<TicketData>(`/tickets/${seg(id)}`), [id]);
  const [closing, setClosing] = useState(false);
  return (
    <Load resource={ticket} retry={reload}>
      {(t) => (
        <Page title={t.subject} actions={t.status === 'closed' ? null : <Button onClick={() => setClosing(true)}>{m.ticket.close}</Button>}>
          <p>
            <a href={`${areaBase()}/tickets`}>{m.ticket.back}</a>
          </p>
          <dl class="facts" aria-label={m.ticket.facts}>
            <dt>{m.tickets.status}</dt>
            <dd>
              <Status tone={ticketTone(t.status)}>{m.tickets.statuses[t.status]}</Status>
            </dd>
            <dt>{m.tickets.category}</dt>
            <dd>{m.tickets.categories[t.category] ?? t.category}</dd>
            {isOperator() ? (
              <>
                <dt>{m.tickets.customer}</dt>
                <dd>
                  <a href={`/ops/customers/${seg(t.customerId)}`}>{t.customerId}</a>
                </dd>
              </>
            ) : null}
            <dt>{m.ticket.opened}</dt>
            <dd>{formatDateTime(t.createdAt)}</dd>
          </dl>
          <Section title={m.ticket.messages}>
            <ol class="thread">
              {(t.messages ?? []).map((message) => (
                <li key={message.id} class={`thread-message thread-${message.authorRole === 'operator' ? 'provider' : 'customer'}`}>
                  <p class="thread-meta">{m.ticket.from(m.roleName[message.authorRole] ?? message.authorRole, formatDateTime(message.createdAt))}</p>
                  <p class="thread-body">{message.body}</p>
                </li>
              ))}
            </ol>
          </Section>
          {t.status === 'closed' ? <p class="notice">{m.ticket.isClosed}</p> : <Reply id={t.id} done={() => void reload()} />}
          {closing ? (
            <ConfirmDialog
              title={m.ticket.closeTitle}
              confirmLabel={m.ticket.close}
              danger={false}
              onClose={() => setClosing(false)}
              onConfirm={async () => {
                await api.post(`/tickets/${seg(t.id)}/close`);
                announce(m.ticket.closed);
                await reload();
              }}
            >
              <p>
                <strong>{t.subject}</strong>
              </p>
              <p>{m.ticket.closeBody}</p>
            </ConfirmDialog>
          ) : null}
        </Page>
      )}
    </Load>
  );
}
