/**
 * The one login page for the three roles, then the second factor: the code (stage `totp`), or the
 * enrolment the role requires (stage `enrol`: QR code drawn here, the key in groups of four, a code to
 * confirm, then the recovery codes shown once).
 */
import { useEffect, useState } from 'preact/hooks';
import { Button } from '../ds/Button.tsx';
import { Loading } from '../ds/Data.tsx';
import { TextField } from '../ds/Field.tsx';
import { ErrorSummary, Form, useForm } from '../ds/Form.tsx';
import { Page } from '../ds/Page.tsx';
import { QrCode } from '../ds/Qr.tsx';
import { api } from '../lib/api.ts';
import { messages } from '../lib/i18n.ts';
import { loadSession, logIn } from '../lib/session.ts';
import { common } from '../messages/common.ts';

export function LoginPage() {
  const m = messages(common).login;
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const form = useForm(() => logIn(email.trim(), password));
  return (
    <main class="centered" id="main">
      <div class="card">
        <Page title={m.title}>
          <p class="muted">{m.intro}</p>
          <Form form={form}>
            <TextField id="email" label={m.email} type="email" autoComplete="username" value={email} onValue={setEmail} error={form.errorFor('email')} />
            <TextField
              id="password"
              label={m.password}
              type="password"
              autoComplete="current-password"
              value={password}
              onValue={setPassword}
              error={form.errorFor('password')}
            />
            <div class="form-actions">
              <Button type="submit" variant="primary" busy={form.busy}>
                {m.submit}
              </Button>
            </div>
          </Form>
        </Page>
      </div>
    </main>
  );
}

export function SecondFactorPage() {
  const m = messages(common).login;
  const [code, setCode] = useState('');
  const form = useForm(async () => {
    await api.post('/auth/totp/verify', { code: code.replace(/\s+/g, '') });
    await loadSession();
  });
  return (
    <main class="centered" id="main">
      <div class="card">
        <Page title={m.totpTitle}>
          <p>{m.totpIntro}</p>
          <Form form={form}>
            <TextField id="code" label={m.code} autoComplete="one-time-code" inputMode="numeric" value={code} onValue={setCode} error={form.errorFor('code')} />
            <div class="form-actions">
              <Button type="submit" variant="primary" busy={form.busy}>
                {m.verify}
              </Button>
            </div>
          </Form>
        </Page>
      </div>
    </main>
  );
}

/** The key in groups of four, easier to type into an app by hand. */
export const groupedSecret = (secret: string) => secret.replace(/(.{4})/g, '$1 ').trim();

/** The TOTP enrolment: used at login when the role requires it, and by a user from their account page. */
export function TotpEnrolment({
  onDone,
  intro,
}: {
  onDone: () => void;
  /** Replaces the text saying the role requires it (for a user who opts in). */
  intro?: string;
}) {
  const m = messages(common).login;
  const [enrolment, setEnrolment] = useState<{ secret: string; uri: string } | undefined>(undefined);
  const [codes, setCodes] = useState<string[] | undefined>(undefined);
  const [code, setCode] = useState('');
  const start = useForm(async () => undefined);
  const confirm = useForm(async () => {
    const reply = await api.post<{ recoveryCodes: string[] }>('/auth/totp/confirm', { code: code.replace(/\s+/g, '') });
    setCodes(reply.recoveryCodes);
  });
  useEffect(() => {
    void start.run(async () => setEnrolment(await api.post<{ secret: string; uri: string }>('/auth/totp/enrol')));
  }, []);
  if (!enrolment) return start.problem ? <ErrorSummary problem={start.problem} /> : <Loading />;
  if (codes) {
    return (
      <div>
        <h2>{m.recoveryTitle}</h2>
        <p>{m.recoveryIntro}</p>
        <ul class="codes" aria-label={m.recoveryTitle}>
          {codes.map((recovery) => (
            <li key={recovery}>
              <code>{recovery}</code>
            </li>
          ))}
        </ul>
        <Button variant="primary" onClick={onDone}>
          {m.recoveryDone}
        </Button>
      </div>
    );
  }
  return (
    <div>
      <p>{intro ?? m.enrolIntro}</p>
      <QrCode text={enrolment.uri} label={m.qrLabel} />
      <p>
        {m.secret}{' '}
        <code class="secret" data-secret={enrolment.secret}>
          {groupedSecret(enrolment.secret)}
        </code>
      </p>
      <Form form={confirm}>
        <TextField id="code" label={m.code} autoComplete="one-time-code" inputMode="numeric" value={code} onValue={setCode} error={confirm.errorFor('code')} />
        <div class="form-actions">
          <Button type="submit" variant="primary" busy={confirm.busy}>
            {m.enrolConfirm}
          </Button>
        </div>
      </Form>
    </div>
  );
}

export function EnrolPage() {
  const m = messages(common).login;
  return (
    <main class="centered" id="main">
      <div class="card">
        <Page title={m.enrolTitle}>
          <TotpEnrolment onDone={() => void loadSession()} />
        </Page>
      </div>
    </main>
  );
}
