/**
 * Two-factor authentication for a mail user (R-A1): turn it on (the login page's enrolment: QR code,
 * key, code, recovery codes shown once), get new recovery codes, or turn it off — which asks for the
 * password and a code, and says first what is lost.
 */
import { useState } from 'preact/hooks';
import { Button } from '../../ds/Button.tsx';
import { CopyButton } from '../../ds/Copy.tsx';
import { Load, Status } from '../../ds/Data.tsx';
import { ConfirmDialog } from '../../ds/Dialog.tsx';
import { TextField } from '../../ds/Field.tsx';
import { Form, useForm } from '../../ds/Form.tsx';
import { announce } from '../../ds/Live.tsx';
import { Page, Section } from '../../ds/Page.tsx';
import { api, Problem } from '../../lib/api.ts';
import { messages } from '../../lib/i18n.ts';
import { useResource } from '../../lib/resource.ts';
import { user } from '../../messages/user.ts';
import { TotpEnrolment } from '../Login.tsx';
import { fieldError, type Me, pointerIds } from './data.ts';

const digitsOnly = (code: string) => code.replace(/\s+/g, '');

export default function TwoFactor() {
  const m = messages(user).twoFactor;
  const [me, reload] = useResource(() => api.get<Me>('/me'));
  const [enrolling, setEnrolling] = useState(false);
  return (
    <Page title={m.title}>
      <Load resource={me} retry={reload}>
        {(data) =>
          data.account.twoFactorEnabled ? (
            <>
              <Section title={m.status}>
                <p>
                  <Status tone="ok">{m.on}</Status>
                </p>
                <p>
                  {m.mailClientsNote} <a href="/me/app-passwords">{m.appPasswordsLink}</a>
                </p>
              </Section>
              <RecoveryCodes />
              <TurnOff
                onDone={() => {
                  announce(messages(user).twoFactor.turnedOff);
                  void reload();
                }}
              />
            </>
          ) : (
            <>
              <Section title={m.status}>
                <p>
                  <Status tone="warn">{m.off}</Status>
                </p>
                <p>{m.intro}</p>
                <p>{m.mailClientsNote}</p>
                {enrolling ? null : (
                  <Button variant="primary" onClick={() => setEnrolling(true)}>
                    {m.start}
                  </Button>
                )}
              </Section>
              {enrolling ? (
                <Section title={m.start}>
                  <TotpEnrolment
                    intro={m.enrolIntro}
                    onDone={() => {
                      setEnrolling(false);
                      announce(messages(user).twoFactor.enrolled);
                      void reload();
                    }}
                  />
                </Section>
              ) : null}
            </>
          )
        }
      </Load>
    </Page>
  );
}

function RecoveryCodes() {
  const m = messages(user).twoFactor;
  const [code, setCode] = useState('');
  const [codes, setCodes] = useState<string[] | undefined>(undefined);
  const form = useForm(async () => {
    const reply = await api.post<{ recoveryCodes: string[] }>('/me/totp/recovery-codes', { code: digitsOnly(code) });
    setCode('');
    setCodes(reply.recoveryCodes);
  });
  return (
    <Section title={m.recoveryTitle}>
      {codes ? (
        <div class="notice notice-ok">
          <h3>{m.newCodesTitle}</h3>
          <p>{m.newCodesIntro}</p>
          <ul class="codes" aria-label={m.newCodesTitle}>
            {codes.map((recovery) => (
              <li key={recovery}>
                <code>{recovery}</code>
              </li>
            ))}
          </ul>
          <div class="form-actions">
            <CopyButton value={codes.join('\n')} label={m.copyCodes} />
            <Button variant="primary" onClick={() => setCodes(undefined)}>
              {m.done}
            </Button>
          </div>
        </div>
      ) : (
        <>
          <p>{m.recoveryIntro}</p>
          <Form form={form} fieldIds={{ code: 'recovery-code', ...pointerIds('code') }} label={m.newCodes}>
            <TextField
              id="recovery-code"
              name="code"
              label={m.code}
              autoComplete="one-time-code"
              inputMode="numeric"
              value={code}
              onValue={setCode}
              error={fieldError(form, 'code')}
            />
            <div class="form-actions">
              <Button type="submit" busy={form.busy}>
                {m.newCodes}
              </Button>
            </div>
          </Form>
        </>
      )}
    </Section>
  );
}

function TurnOff({ onDone }: { onDone: () => void }) {
  const m = messages(user).twoFactor;
  const [open, setOpen] = useState(false);
  const [currentPassword, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  const errorOf = (field: string) => (problem?.field === field || problem?.field === `/${field}` ? problem.detail : undefined);
  return (
    <Section title={m.turnOffTitle}>
      <p>{m.turnOffIntro}</p>
      <Button variant="danger" onClick={() => setOpen(true)}>
        {m.turnOff}
      </Button>
      {open ? (
        <ConfirmDialog
          title={m.turnOffQuestion}
          confirmLabel={m.turnOff}
          onClose={() => {
            setOpen(false);
            setPassword('');
            setCode('');
            setProblem(undefined);
          }}
          onConfirm={async () => {
            setProblem(undefined);
            try {
              await api.post('/me/totp/disable', { currentPassword, code: digitsOnly(code) });
            } catch (error) {
              if (error instanceof Problem) setProblem(error);
              throw error;
            }
            onDone();
          }}
        >
          <p>{m.turnOffLost}</p>
          <TextField
            id="currentPassword"
            label={m.turnOffPassword}
            type="password"
            autoComplete="current-password"
            value={currentPassword}
            onValue={setPassword}
            error={errorOf('currentPassword')}
          />
          <TextField id="code" label={m.code} autoComplete="one-time-code" inputMode="numeric" value={code} onValue={setCode} error={errorOf('code')} />
        </ConfirmDialog>
      ) : null}
    </Section>
  );
}
