/**
 * One mail account: its storage against the class quota, and what an admin changes (R-T4, R-A1): the
 * class (a licence of the new class must be free: the API's error lands on the field), the password
 * (generated in the browser and shown once, or chosen), access (disable, enable) and deletion, which
 * confirms naming the mailbox and what is lost.
 */
import { useState } from 'preact/hooks';
import { Button } from '../../../ds/Button.tsx';
import { Load, Status } from '../../../ds/Data.tsx';
import { ConfirmDialog } from '../../../ds/Dialog.tsx';
import { SelectField } from '../../../ds/Field.tsx';
import { ErrorSummary, Form, useForm } from '../../../ds/Form.tsx';
import { announce } from '../../../ds/Live.tsx';
import { Page, Section } from '../../../ds/Page.tsx';
import { api, seg } from '../../../lib/api.ts';
import { formatBytes, formatDateTime, messages } from '../../../lib/i18n.ts';
import { useResource } from '../../../lib/resource.ts';
import type { Params } from '../../../lib/router.ts';
import { navigate } from '../../../lib/router.ts';
import { adminMail } from '../../../messages/admin-mail.ts';
import { statusTone } from './Accounts.tsx';
import {
  type AccountRow,
  className,
  generatePassword,
  loadSubscription,
  PasswordChoice,
  type PasswordMode,
  QuotaMeter,
  ShownOnce,
  type SubscriptionDetails,
  withSubscription,
} from './common.tsx';

async function loadAccount(id: string): Promise<{ account: AccountRow; subscription: SubscriptionDetails }> {
  const account = await api.get<AccountRow>(`/accounts/${seg(id)}`);
  const { current } = await loadSubscription(account.subscriptionId);
  return { account, subscription: current as SubscriptionDetails };
}

function ClassForm({ account, subscription, onChanged }: { account: AccountRow; subscription: SubscriptionDetails; onChanged: () => Promise<void> }) {
  const m = messages(adminMail);
  const [classId, setClassId] = useState(account.classId);
  const form = useForm(async () => {
    await api.patch(`/accounts/${seg(account.id)}`, { classId });
    announce(m.account.classChanged(className(subscription.classes, classId)));
    await onChanged();
  });
  const offered = subscription.licences.filter((l) => l.quantity > 0 || l.classId === account.classId);
  return (
    <Form form={form} label={m.account.changeClass}>
      <SelectField
        id="classId"
        label={m.create.class}
        hint={m.account.classHint}
        value={classId}
        onValue={setClassId}
        error={form.errorFor('classId')}
        options={offered.map((l) => ({ value: l.classId, label: m.create.classOption(className(subscription.classes, l.classId), l.available, l.quantity) }))}
      />
      <div class="form-actions">
        <Button type="submit" busy={form.busy} disabled={classId === account.classId}>
          {m.account.saveClass}
        </Button>
      </div>
    </Form>
  );
}

function PasswordForm({ account }: { account: AccountRow }) {
  const m = messages(adminMail);
  const [mode, setMode] = useState<PasswordMode>('generate');
  const [password, setPassword] = useState('');
  const [shown, setShown] = useState<string | undefined>(undefined);
  const form = useForm(async () => {
    const next = mode === 'generate' ? generatePassword() : password;
    setShown(undefined);
    await api.patch(`/accounts/${seg(account.id)}`, { password: next });
    setPassword('');
    if (mode === 'generate') setShown(next);
    announce(m.account.passwordChanged2);
  });
  return (
    <>
      {shown ? <ShownOnce label={m.password.generated} value={shown} /> : null}
      <Form form={form} label={m.account.changePassword}>
        <PasswordChoice
          mode={mode}
          onMode={setMode}
          password={password}
          onPassword={setPassword}
          error={form.errorFor('password')}
          hint={m.account.passwordHint}
        />
        <div class="form-actions">
          <Button type="submit" busy={form.busy}>
            {m.account.savePassword}
          </Button>
        </div>
      </Form>
    </>
  );
}

function AccessSection({ account, onChanged }: { account: AccountRow; onChanged: () => Promise<void> }) {
  const m = messages(adminMail).account;
  const form = useForm(async () => undefined);
  if (account.status === 'suspended' || account.status === 'blocked') return <p>{m.operatorOnly}</p>;
  const disabling = account.status === 'active';
  return (
    <>
      <ErrorSummary problem={form.problem} />
      <p>{m.disableIntro}</p>
      <Button
        busy={form.busy}
        onClick={() =>
          void form.run(async () => {
            await api.patch(`/accounts/${seg(account.id)}`, { status: disabling ? 'disabled' : 'active' });
            announce(disabling ? m.disabled(account.displayAddress) : m.enabled(account.displayAddress));
            await onChanged();
          })
        }
      >
        {disabling ? m.disable : m.enable}
      </Button>
    </>
  );
}

function AccountView({ account, subscription, reload }: { account: AccountRow; subscription: SubscriptionDetails; reload: () => Promise<void> }) {
  const m = messages(adminMail);
  const [confirming, setConfirming] = useState(false);
  return (
    <Page title={account.displayAddress}>
      <p>
        <a href={withSubscription('/admin/accounts')}>{m.account.back}</a>
      </p>
      <Section title={m.account.details}>
        <dl class="facts">
          <dt>{m.accounts.name}</dt>
          <dd>{account.displayName}</dd>
          <dt>{m.accounts.class}</dt>
          <dd>{className(subscription.classes, account.classId)}</dd>
          <dt>{m.accounts.status}</dt>
          <dd>
            <Status tone={statusTone(account.status)}>{m.status[account.status] ?? account.status}</Status>
          </dd>
          <dt>{m.account.storage}</dt>
          <dd>
            <QuotaMeter usage={account.usage} address={account.displayAddress} /> · {m.quota.messages(account.usage.messages)}
          </dd>
          <dt>{m.account.twoFactor}</dt>
          <dd>{account.twoFactorEnabled ? m.account.on : m.account.off}</dd>
          <dt>{m.account.created}</dt>
          <dd>{formatDateTime(account.createdAt)}</dd>
          <dt>{m.account.passwordChanged}</dt>
          <dd>{formatDateTime(account.passwordChangedAt)}</dd>
        </dl>
      </Section>
      <Section title={m.account.changeClass}>
        <ClassForm account={account} subscription={subscription} onChanged={reload} />
      </Section>
      <Section title={m.account.changePassword}>
        <PasswordForm account={account} />
      </Section>
      <Section title={m.account.access}>
        <AccessSection account={account} onChanged={reload} />
      </Section>
      <Section title={m.account.deleteSection}>
        <p>{m.account.deleteIntro}</p>
        <Button variant="danger" onClick={() => setConfirming(true)}>
          {m.account.delete}
        </Button>
      </Section>
      {confirming ? (
        <ConfirmDialog
          title={m.account.deleteTitle(account.displayAddress)}
          confirmLabel={m.account.deleteConfirm}
          onClose={() => setConfirming(false)}
          onConfirm={async () => {
            await api.delete(`/accounts/${seg(account.id)}`);
            announce(m.account.deleted(account.displayAddress));
            navigate(withSubscription('/admin/accounts'));
          }}
        >
          <p>{m.account.deleteBody(account.displayAddress, m.quota.messages(account.usage.messages), formatBytes(account.usage.usedBytes))}</p>
        </ConfirmDialog>
      ) : null}
    </Page>
  );
}

export default function Account({ params }: { params: Params }) {
  const id = params.id as string;
  const [resource, reload] = useResource(() => loadAccount(id), [id]);
  // Until the account is here (or if it is not found), the page still has its heading.
  if (resource.status === 'loading' || resource.status === 'error') {
    return (
      <Page title={messages(adminMail).accounts.title}>
        <Load resource={resource} retry={reload}>
          {() => null}
        </Load>
      </Page>
    );
  }
  return (
    <Load resource={resource} retry={reload}>
      {({ account, subscription }) => <AccountView account={account} subscription={subscription} reload={reload} />}
    </Load>
  );
}
