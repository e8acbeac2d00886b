/**
 * The customer's administrators (R-T1, R-A1): who they are and whether their second factor is set up,
 * and adding one, whose password the service generates and this page shows once.
 */
import { useState } from 'preact/hooks';
import { Button } from '../../../ds/Button.tsx';
import { Load, Status, Table } from '../../../ds/Data.tsx';
import { TextField } from '../../../ds/Field.tsx';
import { Form, useForm } from '../../../ds/Form.tsx';
import { announce } from '../../../ds/Live.tsx';
import { Page, Section } from '../../../ds/Page.tsx';
import { api, seg } from '../../../lib/api.ts';
import { compareText, formatDate, lang, messages } from '../../../lib/i18n.ts';
import { useResource } from '../../../lib/resource.ts';
import { session } from '../../../lib/session.ts';
import { adminMail } from '../../../messages/admin-mail.ts';
import { ShownOnce } from '../mail/common.tsx';

interface Login {
  id: string;
  email: string;
  displayName: string;
  twoFactorEnabled: boolean;
  status: 'active' | 'disabled';
  createdAt: string;
}

export default function Admins() {
  const m = messages(adminMail).admins;
  const customerId = session.value?.customerId ?? '';
  const [resource, reload] = useResource(() => api.get<{ items: Login[] }>(`/customers/${seg(customerId)}/admins`), [customerId]);
  const [email, setEmail] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [created, setCreated] = useState<{ email: string; password: string } | undefined>(undefined);
  const add = useForm(async () => {
    setCreated(undefined);
    const login = await api.post<Login & { generatedPassword?: string }>(`/customers/${seg(customerId)}/admins`, {
      email: email.trim(),
      language: lang.value,
      ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
    });
    announce(m.added(login.email));
    if (login.generatedPassword) setCreated({ email: login.email, password: login.generatedPassword });
    setEmail('');
    setDisplayName('');
    await reload();
  });
  return (
    <Page title={m.title}>
      <p class="muted">{m.intro}</p>
      <Load resource={resource} retry={reload}>
        {({ items }) => (
          <Table
            caption={m.caption}
            rowKey={(row) => row.id}
            rows={[...items].sort((a, b) => compareText(a.email, b.email))}
            columns={[
              { label: m.email, cell: (row) => row.email },
              { label: m.name, cell: (row) => row.displayName },
              {
                label: m.twoFactor,
                cell: (row) => <Status tone={row.twoFactorEnabled ? 'ok' : 'warn'}>{row.twoFactorEnabled ? m.on : m.notYet}</Status>,
              },
              { label: m.status, cell: (row) => m.statuses[row.status] ?? row.status },
              { label: messages(adminMail).tokens.created, cell: (row) => formatDate(row.createdAt) },
            ]}
          />
        )}
      </Load>
      <Section title={m.addTitle}>
        {created ? <ShownOnce label={m.password(created.email)} value={created.password} /> : null}
        <Form form={add} label={m.addTitle}>
          <p class="hint">{m.generated}</p>
          <TextField
            id="email"
            label={m.email}
            hint={m.emailHint}
            type="email"
            autoComplete="off"
            value={email}
            onValue={setEmail}
            error={add.errorFor('email')}
          />
          <TextField id="displayName" label={m.name} value={displayName} onValue={setDisplayName} error={add.errorFor('displayName')} optional />
          <div class="form-actions">
            <Button type="submit" variant="primary" busy={add.busy}>
              {m.add}
            </Button>
          </div>
        </Form>
      </Section>
    </Page>
  );
}
