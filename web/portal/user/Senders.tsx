/**
 * The user's allow and block lists (R-S2): an address, a domain or a domain with its subdomains; added
 * with the API's own checks shown on the field, removed after a confirmation saying what changes.
 */
import { useState } from 'preact/hooks';
import { Button } from '../../ds/Button.tsx';
import { Empty, Load, Table } from '../../ds/Data.tsx';
import { ConfirmDialog } from '../../ds/Dialog.tsx';
import { SelectField, TextField } from '../../ds/Field.tsx';
import { Form, useForm } from '../../ds/Form.tsx';
import { announce } from '../../ds/Live.tsx';
import { Page, Section } from '../../ds/Page.tsx';
import { api, seg } from '../../lib/api.ts';
import { compareText, formatDateTime, messages } from '../../lib/i18n.ts';
import { useResource } from '../../lib/resource.ts';
import { user } from '../../messages/user.ts';
import { fieldError, pointerIds, type SenderRule } from './data.ts';

export default function Senders() {
  const m = messages(user).senders;
  const [rules, reload] = useResource(() => api.get<{ items: SenderRule[] }>('/me/sender-rules'));
  const [pattern, setPattern] = useState('');
  const [kind, setKind] = useState<'allow' | 'block'>('allow');
  const [removing, setRemoving] = useState<SenderRule | undefined>(undefined);
  const form = useForm(async () => {
    const added = await api.post<SenderRule>('/me/sender-rules', { pattern: pattern.trim(), kind });
    setPattern('');
    announce(messages(user).senders.added(added.pattern, added.kind === 'allow'));
    await reload();
  });
  const list = (items: SenderRule[], which: 'allow' | 'block') => {
    const rows = items.filter((rule) => rule.kind === which).sort((a, b) => compareText(a.pattern, b.pattern));
    if (rows.length === 0) {
      return (
        <Empty title={which === 'allow' ? m.emptyAllowed : m.emptyBlocked}>
          <p>{which === 'allow' ? m.emptyAllowedBody : m.emptyBlockedBody}</p>
        </Empty>
      );
    }
    return (
      <Table
        caption={which === 'allow' ? m.allowedCaption : m.blockedCaption}
        rowKey={(row) => row.id}
        rows={rows}
        columns={[
          { label: m.pattern, cell: (row) => <span class="break-anywhere">{row.pattern}</span> },
          { label: m.added_, cell: (row) => formatDateTime(row.createdAt) },
          {
            label: m.actions,
            cell: (row) => (
              <Button variant="danger" aria-label={m.removeLabel(row.pattern)} onClick={() => setRemoving(row)}>
                {m.remove}
              </Button>
            ),
          },
        ]}
      />
    );
  };
  return (
    <Page title={m.title}>
      <p>{m.intro}</p>
      <Section title={m.add}>
        <Form form={form} fieldIds={pointerIds('pattern', 'kind')} label={m.add}>
          <TextField
            id="pattern"
            label={m.pattern}
            hint={m.patternHint}
            maxLength={320}
            value={pattern}
            onValue={setPattern}
            error={fieldError(form, 'pattern')}
          />
          <SelectField
            id="kind"
            label={m.kind}
            value={kind}
            options={[
              { value: 'allow', label: m.allow },
              { value: 'block', label: m.block },
            ]}
            onValue={setKind}
            error={fieldError(form, 'kind')}
          />
          <div class="form-actions">
            <Button type="submit" variant="primary" busy={form.busy}>
              {m.submit}
            </Button>
          </div>
        </Form>
      </Section>
      <Load resource={rules} retry={reload}>
        {(data) => (
          <>
            <Section title={m.allowed}>{list(data.items, 'allow')}</Section>
            <Section title={m.blocked}>{list(data.items, 'block')}</Section>
          </>
        )}
      </Load>
      {removing ? (
        <ConfirmDialog
          title={m.removeTitle(removing.pattern)}
          confirmLabel={m.remove}
          onClose={() => setRemoving(undefined)}
          onConfirm={async () => {
            await api.delete(`/me/sender-rules/${seg(removing.id)}`);
            announce(messages(user).senders.removed(removing.pattern));
            await reload();
          }}
        >
          <p>{m.removeLost(removing.pattern, removing.kind === 'allow')}</p>
        </ConfirmDialog>
      ) : null}
    </Page>
  );
}
