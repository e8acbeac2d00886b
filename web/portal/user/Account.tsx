/**
 * The user's own account (R-A1): who they are, a password change (the API's rules beside the field,
 * its errors on the field), and their preferences: the language of what the service sends them
 * (PATCH /me) and how often the quarantine digest comes (PATCH /me/filter-prefs).
 */
import { useState } from 'preact/hooks';
import { Button } from '../../ds/Button.tsx';
import { Load, Status } from '../../ds/Data.tsx';
import { SelectField, TextField } from '../../ds/Field.tsx';
import { Form, useForm } from '../../ds/Form.tsx';
import { announce } from '../../ds/Live.tsx';
import { Page, Section } from '../../ds/Page.tsx';
import { api } from '../../lib/api.ts';
import { formatDateTime, LANGS, type Lang, messages, setLang } from '../../lib/i18n.ts';
import { useResource } from '../../lib/resource.ts';
import { common } from '../../messages/common.ts';
import { user } from '../../messages/user.ts';
import { clientProblem, type Digest, type FilterPrefs, fieldError, type Me, pointerIds } from './data.ts';

export default function Account() {
  const m = messages(user).account;
  const [me, reloadMe] = useResource(() => api.get<Me>('/me'));
  const [prefs, reloadPrefs] = useResource(() => api.get<FilterPrefs>('/me/filter-prefs'));
  return (
    <Page title={m.title}>
      <Load resource={me} retry={reloadMe}>
        {(data) => (
          <>
            <Section title={m.details}>
              <dl class="facts">
                <dt>{m.address}</dt>
                <dd>{data.account.displayAddress || data.account.address}</dd>
                {data.account.displayName ? (
                  <>
                    <dt>{m.name}</dt>
                    <dd>{data.account.displayName}</dd>
                  </>
                ) : null}
                <dt>{m.twoFactor}</dt>
                <dd>
                  {data.account.twoFactorEnabled ? <Status tone="ok">{m.on}</Status> : <Status tone="warn">{m.off}</Status>}{' '}
                  <a href="/me/two-factor">{messages(user).nav.twoFactor}</a>
                </dd>
                <dt>{m.passwordChangedAt}</dt>
                <dd>{formatDateTime(data.account.passwordChangedAt)}</dd>
              </dl>
            </Section>
            <PasswordChange me={data} onChanged={() => void reloadMe()} />
            <Load resource={prefs} retry={reloadPrefs}>
              {(current) => <Preferences me={data} prefs={current} onSaved={() => Promise.all([reloadMe(), reloadPrefs()]).then(() => undefined)} />}
            </Load>
          </>
        )}
      </Load>
    </Page>
  );
}

function PasswordChange({ me, onChanged }: { me: Me; onChanged: () => void }) {
  const m = messages(user).account;
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [confirmPassword, setConfirm] = useState('');
  const form = useForm(async () => {
    if (newPassword !== confirmPassword) throw clientProblem(m.mismatch, 'confirmPassword');
    await api.post('/me/password', { currentPassword, newPassword });
    setCurrent('');
    setNew('');
    setConfirm('');
    announce(m.passwordChanged);
    onChanged();
  });
  const rules = me.passwordRules;
  return (
    <Section title={m.password}>
      <p class="muted">{m.passwordIntro}</p>
      <Form form={form} fieldIds={pointerIds('currentPassword', 'newPassword')} label={m.password}>
        {/* The address as a hidden user name, so password managers file the new password under it. */}
        <input type="text" name="username" autoComplete="username" value={me.account.address} hidden readOnly />
        <TextField
          id="currentPassword"
          label={m.currentPassword}
          type="password"
          autoComplete="current-password"
          value={currentPassword}
          onValue={setCurrent}
          error={fieldError(form, 'currentPassword')}
        />
        <TextField
          id="newPassword"
          label={m.newPassword}
          type="password"
          autoComplete="new-password"
          hint={rules ? m.newPasswordHint(rules.minLength, rules.maxLength) : undefined}
          minLength={rules?.minLength}
          value={newPassword}
          onValue={setNew}
          error={fieldError(form, 'newPassword')}
        />
        <TextField
          id="confirmPassword"
          label={m.confirmPassword}
          type="password"
          autoComplete="new-password"
          value={confirmPassword}
          onValue={setConfirm}
          error={fieldError(form, 'confirmPassword')}
        />
        <div class="form-actions">
          <Button type="submit" variant="primary" busy={form.busy}>
            {m.changePassword}
          </Button>
        </div>
      </Form>
    </Section>
  );
}

function Preferences({ me, prefs, onSaved }: { me: Me; prefs: FilterPrefs; onSaved: () => Promise<void> }) {
  const m = messages(user).account;
  const names = messages(common).languageName;
  const [language, setLanguage] = useState<Lang>(me.account.language);
  const [digest, setDigest] = useState<Digest | 'inherit'>(prefs.own.digest ?? 'inherit');
  const form = useForm(async () => {
    if (language !== me.account.language) await api.patch('/me', { language });
    const wanted = digest === 'inherit' ? null : digest;
    if (wanted !== prefs.own.digest) await api.patch('/me/filter-prefs', { digest: wanted });
    setLang(language);
    announce(messages(user).account.saved);
    await onSaved();
  });
  const digestOptions = [
    { value: 'inherit' as const, label: m.digestInherit(m.digestValue[prefs.effective.digest]) },
    ...(['weekly', 'daily', 'off'] as const).map((value) => ({ value, label: m.digestValue[value] })),
  ];
  return (
    <Section title={m.preferences}>
      <Form form={form} fieldIds={pointerIds('language', 'digest')} label={m.preferences}>
        <SelectField
          id="language"
          label={m.language}
          hint={m.languageHint}
          value={language}
          options={LANGS.map((code) => ({ value: code, label: names[code] }))}
          onValue={setLanguage}
          error={fieldError(form, 'language')}
        />
        <SelectField
          id="digest"
          label={m.digest}
          hint={m.digestHint}
          value={digest}
          options={digestOptions}
          onValue={setDigest}
          error={fieldError(form, 'digest')}
        />
        <div class="form-actions">
          <Button type="submit" variant="primary" busy={form.busy}>
            {m.savePreferences}
          </Button>
        </div>
      </Form>
    </Section>
  );
}
