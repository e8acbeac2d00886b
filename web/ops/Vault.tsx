/**
 * The malware vault (R-V1, R-A2): outbound messages kept for carrying malware. Reading one asks for a
 * reason, which the API records and shows to the customer and the user; the content is shown as raw text.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { Button } from '../ds/Button.tsx';
import { Empty, Load, Pager, Table } from '../ds/Data.tsx';
import { TextArea } from '../ds/Field.tsx';
import { Form, useForm } from '../ds/Form.tsx';
import { announce } from '../ds/Live.tsx';
import { Page, Section } from '../ds/Page.tsx';
import { api, query, seg } from '../lib/api.ts';
import { formatBytes, formatDate, formatDateTime, messages } from '../lib/i18n.ts';
import { usePaged } from '../lib/resource.ts';
import { ops } from '../messages/ops.ts';

interface VaultEntry {
  id: string;
  customerId: string;
  accountId: string;
  sender: string;
  recipients: string[];
  malware: string;
  size: number;
  receivedAt: string;
  purgeAt: string;
}

interface VaultContent {
  entry: VaultEntry;
  contentBase64: string;
  read: { reason: string; readAt: string };
}

/** The bytes as text (UTF-8, undecodable bytes replaced): shown in a <pre>, never parsed as markup. */
function decode(base64: string): string {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

function Reader({ entry, close }: { entry: VaultEntry; close: () => void }) {
  const m = messages(ops).vault;
  const [reason, setReason] = useState('');
  const [content, setContent] = useState<VaultContent | undefined>(undefined);
  const heading = useRef<HTMLDivElement>(null);
  useEffect(() => {
    heading.current?.querySelector<HTMLElement>('textarea, pre')?.focus();
  }, [content]);
  const form = useForm(async () => {
    const read = await api.post<VaultContent>(`/vault/${seg(entry.id)}/read`, { reason });
    setContent(read);
    announce(m.recorded(read.read.reason));
  });
  return (
    <div ref={heading}>
      <Section title={m.readTitle}>
        <dl class="facts">
          <dt>{m.sender}</dt>
          <dd>{entry.sender}</dd>
          <dt>{m.received}</dt>
          <dd>{formatDateTime(entry.receivedAt)}</dd>
          <dt>{m.malware}</dt>
          <dd>{entry.malware}</dd>
        </dl>
        {content ? (
          <>
            <p class="notice notice-ok">{m.recorded(content.read.reason)}</p>
            <h3 id="vault-content">{m.content}</h3>
            <section aria-labelledby="vault-content">
              {/* biome-ignore lint/a11y/noNoninteractiveTabindex: the raw message scrolls; the keyboard must reach it */}
              <pre class="raw" tabIndex={0}>
                {decode(content.contentBase64)}
              </pre>
            </section>
            <div class="form-actions">
              <Button onClick={close}>{m.close}</Button>
            </div>
          </>
        ) : (
          <Form form={form} label={m.readTitle}>
            <TextArea id="reason" label={m.reason} hint={m.reasonHint} value={reason} onValue={setReason} error={form.errorFor('reason')} rows={3} />
            <div class="form-actions">
              <Button type="submit" variant="primary" busy={form.busy}>
                {m.confirm}
              </Button>
              <Button onClick={close}>{m.cancel}</Button>
            </div>
          </Form>
        )}
      </Section>
    </div>
  );
}

export default function Vault() {
  const m = messages(ops).vault;
  const paged = usePaged((after) => api.get<{ items: VaultEntry[]; next: string | null }>(`/vault${query({ limit: 50, after })}`));
  const [reading, setReading] = useState<VaultEntry | undefined>(undefined);
  return (
    <Page title={m.title}>
      <p>{m.intro}</p>
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
                { label: m.received, cell: (e) => formatDateTime(e.receivedAt) },
                { label: m.sender, cell: (e) => e.sender },
                { label: m.recipients, cell: (e) => e.recipients.join(', ') },
                { label: m.malware, cell: (e) => e.malware },
                { label: m.size, numeric: true, cell: (e) => formatBytes(e.size) },
                { label: m.purge, cell: (e) => formatDate(e.purgeAt) },
                {
                  label: messages(ops).classes.actions,
                  cell: (e) => (
                    <Button onClick={() => setReading(e)} aria-label={m.readLabel(e.sender, formatDateTime(e.receivedAt))}>
                      {m.read}
                    </Button>
                  ),
                },
              ]}
            />
          )
        }
      </Load>
      <Pager label={m.caption} number={paged.number} previous={paged.previous} next={paged.next} />
      {reading ? <Reader key={reading.id} entry={reading} close={() => setReading(undefined)} /> : null}
    </Page>
  );
}
