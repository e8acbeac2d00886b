/**
 * The preview of one held message (R-S4): why it was held, its headers, its text and the names of
 * its attachments — all as text nodes (the API gives decoded text, never HTML, and nothing here is
 * parsed as markup), so a message cannot run a script or load an image. Then release it (optionally
 * allowing its sender for good, and teaching the filter), or delete it.
 */
import { useState } from 'preact/hooks';
import { Button, LinkButton } from '../../ds/Button.tsx';
import { Load, Table } from '../../ds/Data.tsx';
import { Checkbox } from '../../ds/Field.tsx';
import { Form, useForm } from '../../ds/Form.tsx';
import { Page, Section } from '../../ds/Page.tsx';
import { api, seg } from '../../lib/api.ts';
import { formatBytes, formatDate, formatDateTime, formatNumber, lang, messages } from '../../lib/i18n.ts';
import { useResource } from '../../lib/resource.ts';
import { navigate, type Params } from '../../lib/router.ts';
import { user } from '../../messages/user.ts';
import type { QuarantinePreview } from './data.ts';
import { reasonText } from './Quarantine.tsx';
import { release, senderOf, subjectOf, useDeleteDialog } from './quarantine-actions.tsx';

const BACK = '/me/quarantine';

export default function QuarantineMessage({ params }: { params: Params }) {
  const m = messages(user).quarantine;
  const [preview, reload] = useResource(() => api.get<QuarantinePreview>(`/quarantine/${seg(params.id ?? '')}`), [params.id]);
  const title = preview.status === 'ready' || preview.status === 'refreshing' ? subjectOf(preview.data) : m.title;
  return (
    <Page title={title} actions={<LinkButton href={BACK}>{m.back}</LinkButton>}>
      <Load resource={preview} retry={reload}>
        {(entry) => <Preview entry={entry} />}
      </Load>
    </Page>
  );
}

function Preview({ entry }: { entry: QuarantinePreview }) {
  const m = messages(user).quarantine;
  const [train, setTrain] = useState(false);
  const [allowSender, setAllowSender] = useState(false);
  const remove = useDeleteDialog(() => navigate(BACK));
  const form = useForm(async () => {
    await release(entry, { ...(allowSender ? { allowSender: true } : {}), ...(train ? { trainAsHam: true } : {}) });
    navigate(BACK);
  });
  const releaseWith = (allow: boolean) => {
    setAllowSender(allow);
    void form.run(async () => {
      await release(entry, { ...(allow ? { allowSender: true } : {}), ...(train ? { trainAsHam: true } : {}) });
      navigate(BACK);
    });
  };
  return (
    <>
      <p class="muted">{m.previewIntro}</p>
      <Section title={m.details}>
        <dl class="facts">
          <dt>{m.from}</dt>
          <dd>{senderOf(entry)}</dd>
          <dt>{m.envelopeSender}</dt>
          <dd>{entry.sender || '<>'}</dd>
          <dt>{m.to}</dt>
          <dd>{entry.recipient}</dd>
          <dt>{m.subject}</dt>
          <dd>{subjectOf(entry)}</dd>
          <dt>{m.received}</dt>
          <dd>{formatDateTime(entry.receivedAt)}</dd>
          <dt>{m.size}</dt>
          <dd>{formatBytes(entry.size)}</dd>
          <dt>{m.expires}</dt>
          <dd>{formatDate(entry.expiresAt)}</dd>
        </dl>
      </Section>
      <Section title={m.text}>
        {entry.textTruncated ? <p class="notice notice-warn">{m.truncated}</p> : null}
        {entry.text ? <pre class="message-text">{entry.text}</pre> : <p class="muted">{m.noText}</p>}
      </Section>
      <Section title={m.attachments}>
        {entry.attachments.length ? (
          <ul>
            {entry.attachments.map((attachment, index) => (
              <li key={index}>
                {attachment.filename || m.unnamed}{' '}
                <span class="muted">
                  ({attachment.contentType}, {formatBytes(attachment.size)})
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">{m.noAttachments}</p>
        )}
      </Section>
      <Section title={m.actions}>
        <Form form={form} label={m.actions}>
          <Checkbox id="train" label={m.train} checked={train} onValue={setTrain} />
          <div class="form-actions">
            <Button variant="primary" busy={form.busy && !allowSender} disabled={form.busy} onClick={() => releaseWith(false)}>
              {m.release}
            </Button>
            <Button busy={form.busy && allowSender} disabled={form.busy} onClick={() => releaseWith(true)}>
              {entry.sender ? m.releaseAllowSender(entry.sender) : m.releaseAllow}
            </Button>
            <Button variant="danger" disabled={form.busy} onClick={() => remove.ask(entry)}>
              {m.delete}
            </Button>
          </div>
        </Form>
      </Section>
      <Section title={m.verdict}>
        <p>{reasonText(entry)}</p>
        {entry.symbols.length ? (
          <Table
            caption={m.symbolsCaption}
            rowKey={(row) => row.name}
            rows={entry.symbols}
            columns={[
              { label: m.check, cell: (row) => row.reason[lang.value] || row.name },
              { label: m.points, numeric: true, cell: (row) => formatNumber(row.score) },
            ]}
          />
        ) : null}
      </Section>
      <Section title={m.headers}>
        <Table
          caption={m.headersCaption}
          rowKey={(row) => `${entry.headers.indexOf(row)}`}
          rows={entry.headers}
          columns={[
            { label: m.header, cell: (row) => row.name },
            { label: m.value, cell: (row) => <span class="break-anywhere">{row.value}</span> },
          ]}
        />
      </Section>
      {remove.dialog}
    </>
  );
}
