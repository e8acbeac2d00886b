/** The message trace (R-M6): the steps of the messages of an address or a Message-ID; a customer admin sees its own domains' (the API limits it). */
import { useState } from 'preact/hooks';
import { Button } from '../../ds/Button.tsx';
import { Empty, Status, Table } from '../../ds/Data.tsx';
import { TextField } from '../../ds/Field.tsx';
import { Form, useForm } from '../../ds/Form.tsx';
import { announce } from '../../ds/Live.tsx';
import { Page, Section } from '../../ds/Page.tsx';
import { api, Problem, query } from '../../lib/api.ts';
import { formatDateTime, lang, messages } from '../../lib/i18n.ts';
import { here, navigate, pathOf, queryOf } from '../../lib/router.ts';
import { shared } from '../../messages/shared.ts';
import { isOperator, shortText } from './where.ts';

interface Step {
  id: string;
  at: string;
  step: string;
  direction: string;
  customerId: string | null;
  messageId: string | null;
  sender: string;
  recipient: string | null;
  detail: Record<string, unknown>;
}

const TONES: Record<string, 'ok' | 'warn' | 'error' | 'info'> = {
  delivered: 'ok',
  stored: 'ok',
  released: 'ok',
  refused: 'error',
  bounced: 'error',
  expired: 'error',
  deleted: 'error',
  quarantined: 'warn',
  deferred: 'warn',
  filtered: 'warn',
};

/** A step's detail as "name: value" pairs, in text (a bilingual reason in the page's language). */
function detailText(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([key, value]) => {
      const bilingual = value && typeof value === 'object' && 'en' in value && 'fr' in value ? (value as Record<string, unknown>)[lang.value] : value;
      return `${key}: ${shortText(bilingual)}`;
    })
    .join(' · ');
}

export default function Trace() {
  const m = messages(shared).trace;
  const initial = queryOf(here.value);
  const [address, setAddress] = useState(initial.address ?? '');
  const [messageId, setMessageId] = useState(initial.messageId ?? '');
  const [steps, setSteps] = useState<Step[] | undefined>(undefined);
  const form = useForm(async () => {
    if (!address.trim() && !messageId.trim()) throw new Problem(400, 'missing-field', m.needOne, m.needOne, 'address');
    const found = await api.get<{ items: Step[] }>(`/trace${query({ address: address.trim(), messageId: messageId.trim() })}`);
    setSteps(found.items);
    announce(m.found(found.items.length));
    navigate(`${pathOf(here.value)}${query({ address: address.trim(), messageId: messageId.trim() })}`, { replace: true });
  });
  return (
    <Page title={m.title}>
      <p>
        {m.intro} {isOperator() ? null : m.introAdmin}
      </p>
      <Form form={form} label={m.title}>
        <div class="grid">
          <TextField
            id="address"
            label={m.address}
            hint={m.addressHint}
            value={address}
            onValue={setAddress}
            error={form.errorFor('address')}
            optional
            type="search"
          />
          <TextField
            id="messageId"
            label={m.messageId}
            hint={m.messageIdHint}
            value={messageId}
            onValue={setMessageId}
            error={form.errorFor('messageId')}
            optional
            type="search"
          />
        </div>
        <div class="form-actions">
          <Button type="submit" variant="primary" busy={form.busy}>
            {m.search}
          </Button>
        </div>
      </Form>
      {steps === undefined ? null : (
        <Section title={m.found(steps.length)}>
          {steps.length === 0 ? (
            <Empty title={m.empty}>
              <p>{m.emptyHint}</p>
            </Empty>
          ) : (
            <Table
              caption={m.caption}
              rows={steps}
              rowKey={(s) => s.id}
              columns={[
                { label: m.at, cell: (s) => formatDateTime(s.at) },
                { label: m.step, cell: (s) => <Status tone={TONES[s.step] ?? 'info'}>{m.steps[s.step] ?? s.step}</Status> },
                { label: m.direction, cell: (s) => m.directions[s.direction] ?? s.direction },
                { label: m.sender, cell: (s) => s.sender || '<>' },
                { label: m.recipient, cell: (s) => s.recipient ?? '—' },
                { label: m.messageId, cell: (s) => (s.messageId ? <code>{s.messageId}</code> : '—') },
                { label: m.detail, cell: (s) => <span class="detail">{detailText(s.detail)}</span> },
              ]}
            />
          )}
        </Section>
      )}
    </Page>
  );
}
