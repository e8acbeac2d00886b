/**
 * The customer's API tokens: created with a name and an optional lifetime, the secret shown once with
 * Copy; listed with their last use; revoked after a confirmation naming the token.
 */
import { useState } from 'preact/hooks';
import { Button } from '../../../ds/Button.tsx';
import { CopyValue } from '../../../ds/Copy.tsx';
import { Empty, Load, Table } from '../../../ds/Data.tsx';
import { ConfirmDialog } from '../../../ds/Dialog.tsx';
import { TextField } from '../../../ds/Field.tsx';
import { Form, useForm } from '../../../ds/Form.tsx';
import { announce } from '../../../ds/Live.tsx';
import { Page, Section } from '../../../ds/Page.tsx';
import { api, seg } from '../../../lib/api.ts';
import { formatDateTime, messages } from '../../../lib/i18n.ts';
import { useResource } from '../../../lib/resource.ts';
import { session } from '../../../lib/session.ts';
import { adminMail } from '../../../messages/admin-mail.ts';

interface Token {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
}

export default function Tokens() {
  const m = messages(adminMail).tokens;
  const customerId = session.value?.customerId ?? '';
  const [resource, reload] = useResource(() => api.get<{ items: Token[] }>(`/customers/${seg(customerId)}/tokens`), [customerId]);
  const [name, setName] = useState('');
  const [days, setDays] = useState('');
  const [secret, setSecret] = useState<{ name: string; token: string } | undefined>(undefined);
  const [revoking, setRevoking] = useState<Token | undefined>(undefined);
  const create = useForm(async () => {
    const trimmed = days.trim();
    const created = await api.post<{ id: string; name: string; token: string }>(`/customers/${seg(customerId)}/tokens`, {
      name: name.trim(),
      ...(trimmed ? { expiresInDays: Number(trimmed) } : {}),
    });
    setSecret({ name: created.name, token: created.token });
    setName('');
    setDays('');
    await reload();
  });
  return (
    <Page title={m.title}>
      <p class="muted">{m.intro}</p>
      {secret ? (
        <section class="notice notice-ok shown-once" aria-label={m.secretTitle(secret.name)}>
          <h2>{m.secretTitle(secret.name)}</h2>
          <p>{m.secretIntro}</p>
          <CopyValue value={secret.token} label={m.secret} />
          <Button onClick={() => setSecret(undefined)}>{m.done}</Button>
        </section>
      ) : null}
      <Load resource={resource} retry={reload}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty title={m.emptyTitle}>
              <p>{m.emptyBody}</p>
            </Empty>
          ) : (
            <Table
              caption={m.caption}
              rowKey={(row) => row.id}
              rows={items}
              columns={[
                { label: m.name, cell: (row) => row.name },
                { label: m.created, cell: (row) => formatDateTime(row.createdAt) },
                { label: m.lastUsed, cell: (row) => (row.lastUsedAt ? formatDateTime(row.lastUsedAt) : m.unused) },
                { label: m.expires, cell: (row) => (row.expiresAt ? formatDateTime(row.expiresAt) : m.never) },
                {
                  label: messages(adminMail).aliases.actions,
                  cell: (row) => (
                    <Button variant="danger" onClick={() => setRevoking(row)} aria-label={m.revokeLabel(row.name)}>
                      {m.revoke}
                    </Button>
                  ),
                },
              ]}
            />
          )
        }
      </Load>
      <Section title={m.createTitle}>
        <Form form={create} label={m.createTitle}>
          <TextField id="name" label={m.name} hint={m.nameHint} maxLength={64} value={name} onValue={setName} error={create.errorFor('name')} />
          <TextField
            id="expiresInDays"
            label={m.expiresIn}
            hint={m.expiresHint}
            type="number"
            min={1}
            max={3650}
            inputMode="numeric"
            value={days}
            onValue={setDays}
            error={create.errorFor('expiresInDays')}
            optional
          />
          <div class="form-actions">
            <Button type="submit" variant="primary" busy={create.busy}>
              {m.create}
            </Button>
          </div>
        </Form>
      </Section>
      {revoking ? (
        <ConfirmDialog
          title={m.revokeTitle(revoking.name)}
          confirmLabel={m.revoke}
          onClose={() => setRevoking(undefined)}
          onConfirm={async () => {
            await api.delete(`/customers/${seg(customerId)}/tokens/${seg(revoking.id)}`);
            announce(m.revoked(revoking.name));
            await reload();
          }}
        >
          <p>{m.revokeBody(revoking.name)}</p>
        </ConfirmDialog>
      ) : null}
    </Page>
  );
}
