/**
 * Adding a mail account (R-T2, R-T4, R-A1): address, name, class (each with its free licences) and a
 * password the service generates and shows once, or one the admin chooses. A licence overrun is the
 * API's error, shown on the class field; nothing is half-created.
 */
import { useState } from 'preact/hooks';
import { Button, LinkButton } from '../../../ds/Button.tsx';
import { SelectField, TextField } from '../../../ds/Field.tsx';
import { Form, useForm } from '../../../ds/Form.tsx';
import { announce } from '../../../ds/Live.tsx';
import { Page } from '../../../ds/Page.tsx';
import { api, seg } from '../../../lib/api.ts';
import { lang, messages } from '../../../lib/i18n.ts';
import { adminMail } from '../../../messages/admin-mail.ts';
import { common } from '../../../messages/common.ts';
import {
  type AccountRow,
  className,
  PasswordChoice,
  type PasswordMode,
  ShownOnce,
  type SubscriptionDetails,
  WithSubscription,
  withSubscription,
} from './common.tsx';

function CreateForm({ subscription }: { subscription: SubscriptionDetails }) {
  const m = messages(adminMail);
  const offered = subscription.licences.filter((l) => l.quantity > 0);
  const [address, setAddress] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [classId, setClassId] = useState(offered.find((l) => l.available > 0)?.classId ?? offered[0]?.classId ?? '');
  const [language, setLanguage] = useState<'en' | 'fr'>(lang.value);
  const [mode, setMode] = useState<PasswordMode>('generate');
  const [password, setPassword] = useState('');
  const [created, setCreated] = useState<(AccountRow & { generatedPassword?: string }) | undefined>(undefined);
  const form = useForm(async () => {
    const account = await api.post<AccountRow & { generatedPassword?: string }>(`/subscriptions/${seg(subscription.id)}/accounts`, {
      address: address.trim(),
      classId,
      language,
      ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
      ...(mode === 'choose' ? { password } : {}),
    });
    setCreated(account);
    announce(m.create.created(account.displayAddress));
  });
  if (created) {
    return (
      <div class="created">
        <h2>{m.create.created(created.displayAddress)}</h2>
        {created.generatedPassword ? <ShownOnce label={m.password.generated} value={created.generatedPassword} /> : null}
        <div class="form-actions">
          <LinkButton variant="primary" href={withSubscription(`/admin/accounts/${seg(created.id)}`)}>
            {m.create.open}
          </LinkButton>
          <Button
            onClick={() => {
              setCreated(undefined);
              setAddress('');
              setDisplayName('');
              setPassword('');
              setMode('generate');
            }}
          >
            {m.create.another}
          </Button>
        </div>
      </div>
    );
  }
  return (
    <Form form={form} label={m.create.title}>
      <TextField
        id="address"
        label={m.create.address}
        hint={m.create.addressHint}
        type="email"
        autoComplete="off"
        value={address}
        onValue={setAddress}
        error={form.errorFor('address')}
      />
      <TextField id="displayName" label={m.create.displayName} value={displayName} onValue={setDisplayName} error={form.errorFor('displayName')} optional />
      <SelectField
        id="classId"
        label={m.create.class}
        value={classId}
        onValue={setClassId}
        error={form.errorFor('classId')}
        options={offered.map((l) => ({ value: l.classId, label: m.create.classOption(className(subscription.classes, l.classId), l.available, l.quantity) }))}
      />
      <SelectField
        id="language"
        label={m.create.language}
        value={language}
        onValue={setLanguage}
        options={(['fr', 'en'] as const).map((code) => ({ value: code, label: messages(common).languageName[code] }))}
      />
      <PasswordChoice mode={mode} onMode={setMode} password={password} onPassword={setPassword} error={form.errorFor('password')} />
      <div class="form-actions">
        <Button type="submit" variant="primary" busy={form.busy}>
          {m.create.submit}
        </Button>
      </div>
    </Form>
  );
}

export default function NewAccount() {
  const m = messages(adminMail).create;
  return (
    <Page title={m.title}>
      <p>
        <a href={withSubscription('/admin/accounts')}>{m.back}</a>
      </p>
      <WithSubscription>{(subscription) => <CreateForm subscription={subscription} />}</WithSubscription>
    </Page>
  );
}
