/**
 * App passwords for mail clients (R-A1): one per device, named; its secret shown once with a Copy
 * button and never again (the API keeps only a hash); revoked one by one after a confirmation naming
 * the device that will lose access.
 */
import { useState } from 'preact/hooks';
import { Button } from '../../ds/Button.tsx';
import { CopyValue } from '../../ds/Copy.tsx';
import { Empty, Load, Table } from '../../ds/Data.tsx';
import { ConfirmDialog } from '../../ds/Dialog.tsx';
import { TextField } from '../../ds/Field.tsx';
import { Form, useForm } from '../../ds/Form.tsx';
import { announce } from '../../ds/Live.tsx';
import { Page, Section } from '../../ds/Page.tsx';
import { api, seg } from '../../lib/api.ts';
import { formatDateTime, messages } from '../../lib/i18n.ts';
import { useResource } from '../../lib/resource.ts';
import { user } from '../../messages/user.ts';
import { type AppPassword, fieldError, type Me, pointerIds } from './data.ts';

export default function AppPasswords() {
  const m = messages(user).appPasswords;
  const [list, reload] = useResource(() => api.get<{ items: AppPassword[] }>('/me/app-passwords'));
  const [me] = useResource(() => api.get<Me>('/me'));
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ name: string; password: string } | undefined>(undefined);
  const [revoking, setRevoking] = useState<AppPassword | undefined>(undefined);
  const form = useForm(async () => {
    const reply = await api.post<AppPassword & { password: string }>('/me/app-passwords', { name });
    setName('');
    setCreated({ name: reply.name, password: reply.password });
    await reload();
  });
  return (
    <Page title={m.title}>
      <p>{m.intro}</p>
      {me.status === 'ready' && !me.data.account.twoFactorEnabled ? (
        <div class="notice">
          <p>{m.twoFactorOff}</p>
        </div>
      ) : null}
      <Section title={m.create}>
        {created ? (
          <div class="notice notice-ok" role="status">
            <h3>{m.createdTitle(created.name)}</h3>
            <p>{m.createdIntro}</p>
            <CopyValue value={created.password} label={m.createdLabel} />
            <div class="form-actions">
              <Button variant="primary" onClick={() => setCreated(undefined)}>
                {m.done}
              </Button>
            </div>
          </div>
        ) : (
          <Form form={form} fieldIds={pointerIds('name')} label={m.create}>
            <TextField id="name" label={m.name} hint={m.nameHint} maxLength={64} value={name} onValue={setName} error={fieldError(form, 'name')} />
            <div class="form-actions">
              <Button type="submit" variant="primary" busy={form.busy}>
                {m.submit}
              </Button>
            </div>
          </Form>
        )}
      </Section>
      <Section title={m.list}>
        <Load resource={list} retry={reload}>
          {(data) =>
            data.items.length === 0 ? (
              <Empty title={m.emptyTitle}>
                <p>{m.emptyBody}</p>
              </Empty>
            ) : (
              <Table
                caption={m.caption}
                rowKey={(row) => row.id}
                rows={data.items}
                columns={[
                  { label: m.name, cell: (row) => row.name },
                  { label: m.created, cell: (row) => formatDateTime(row.createdAt) },
                  { label: m.lastUsed, cell: (row) => (row.lastUsedAt ? formatDateTime(row.lastUsedAt) : m.never) },
                  {
                    label: m.actions,
                    cell: (row) => (
                      <Button variant="danger" aria-label={m.revokeLabel(row.name)} onClick={() => setRevoking(row)}>
                        {m.revoke}
                      </Button>
                    ),
                  },
                ]}
              />
            )
          }
        </Load>
      </Section>
      {revoking ? (
        <ConfirmDialog
          title={m.revokeTitle(revoking.name)}
          confirmLabel={m.revoke}
          onClose={() => setRevoking(undefined)}
          onConfirm={async () => {
            await api.delete(`/me/app-passwords/${seg(revoking.id)}`);
            announce(messages(user).appPasswords.revoked(revoking.name));
            await reload();
          }}
        >
          <p>{m.revokeLost(revoking.name)}</p>
        </ConfirmDialog>
      ) : null}
    </Page>
  );
}
