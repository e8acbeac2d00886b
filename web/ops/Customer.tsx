/**
 * One customer for the operator (R-T1, R-T2): its profile, its subscriptions (created with licences per
 * class, activated, licences changed, ended with a confirmation naming what is lost) and its administrators.
 */
import { useState } from 'preact/hooks';
import { Button } from '../ds/Button.tsx';
import { Empty, Load, Status, Table } from '../ds/Data.tsx';
import { ConfirmDialog } from '../ds/Dialog.tsx';
import { Checkbox, SelectField, TextField } from '../ds/Field.tsx';
import { Form, useForm } from '../ds/Form.tsx';
import { announce } from '../ds/Live.tsx';
import { Page, Section } from '../ds/Page.tsx';
import { api, query, seg } from '../lib/api.ts';
import { formatDate, formatDateTime, formatNumber, lang, messages } from '../lib/i18n.ts';
import { useResource } from '../lib/resource.ts';
import type { Params } from '../lib/router.ts';
import { ops } from '../messages/ops.ts';
import type { AccountClass, Customer as CustomerData, Login, Subscription } from './types.ts';

type Cycle = Subscription['billingCycle'];
const CYCLES: Cycle[] = ['monthly', 'quarterly', 'yearly'];

/** One number field per class: the licences to buy; the API's error on them is shown once, above. */
function LicenceFields({
  classes,
  values,
  onValue,
  prefix,
  error,
}: {
  classes: AccountClass[];
  values: Record<string, string>;
  onValue: (id: string, v: string) => void;
  prefix: string;
  error?: string | undefined;
}) {
  const m = messages(ops).customer;
  return (
    <fieldset class="fieldset" aria-describedby={error ? `${prefix}-error` : undefined}>
      <legend>{m.licences}</legend>
      {error ? (
        <p class="error-message" id={`${prefix}-error`}>
          {error}
        </p>
      ) : null}
      <div class="grid">
        {classes.map((c) => (
          <TextField
            key={c.id}
            id={`${prefix}-${c.id}`}
            label={m.licenceOf(c.name[lang.value])}
            type="number"
            min={0}
            inputMode="numeric"
            value={values[c.id] ?? '0'}
            onValue={(v) => onValue(c.id, v)}
          />
        ))}
      </div>
    </fieldset>
  );
}

function licencesOf(values: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [id, v] of Object.entries(values)) {
    const n = Number(v);
    if (v.trim() !== '' && Number.isFinite(n) && n > 0) out[id] = Math.floor(n);
  }
  return out;
}

function SubscriptionCard({
  sub,
  customer,
  classes,
  reload,
}: {
  sub: Subscription;
  customer: CustomerData;
  classes: AccountClass[];
  reload: () => Promise<void>;
}) {
  const m = messages(ops).customer;
  const [editing, setEditing] = useState(false);
  const [ending, setEnding] = useState(false);
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(sub.licences.map((l) => [l.classId, String(l.quantity)])));
  const activate = useForm(async () => {
    await api.post(`/subscriptions/${seg(sub.id)}/activate`);
    announce(m.activated);
    await reload();
  });
  const licences = useForm(async () => {
    await api.put(`/subscriptions/${seg(sub.id)}/licences`, { licences: licencesOf(values) });
    announce(m.licencesSaved);
    setEditing(false);
    await reload();
  });
  const className = (id: string) => classes.find((c) => c.id === id)?.name[lang.value] ?? id;
  const tone = sub.status === 'active' ? 'ok' : sub.status === 'pending' ? 'warn' : 'error';
  return (
    <article class="card stack" aria-labelledby={`sub-${sub.id}`}>
      <h3 id={`sub-${sub.id}`}>{m.subscription(sub.id)}</h3>
      <dl class="facts">
        <dt>{messages(ops).customers.status}</dt>
        <dd>
          <Status tone={tone}>{m.subStatus[sub.status]}</Status>
          {sub.cancelAtPeriodEnd ? <span class="muted"> · {m.cancelAtEnd}</span> : null}
        </dd>
        <dt>{m.period}</dt>
        <dd>
          {formatDate(sub.currentPeriodStart)} – {formatDate(sub.currentPeriodEnd)} ({m.periodMonths(sub.periodMonths)})
        </dd>
        <dt>{m.cycle}</dt>
        <dd>{m.cycles[sub.billingCycle]}</dd>
      </dl>
      <Table
        caption={m.licencesCaption(sub.id)}
        rows={sub.licences}
        rowKey={(l) => l.classId}
        columns={[
          { label: m.class, cell: (l) => className(l.classId) },
          { label: m.bought, numeric: true, cell: (l) => formatNumber(l.quantity) },
          { label: m.used, numeric: true, cell: (l) => formatNumber(l.used) },
        ]}
      />
      {activate.problem ? (
        <p class="error-message" role="alert">
          {activate.problem.detail}
        </p>
      ) : null}
      {sub.status === 'ended' ? null : (
        <div class="page-actions">
          {sub.status === 'pending' ? (
            <Button variant="primary" busy={activate.busy} onClick={activate.onSubmit}>
              {m.activate}
            </Button>
          ) : null}
          <Button onClick={() => setEditing(!editing)} aria-expanded={editing}>
            {m.editLicences}
          </Button>
          <Button variant="danger" onClick={() => setEnding(true)}>
            {m.terminate}
          </Button>
        </div>
      )}
      {editing ? (
        <Form form={licences} label={m.editLicences}>
          <LicenceFields
            classes={classes}
            values={values}
            prefix={`lic-${sub.id}`}
            onValue={(id, v) => setValues({ ...values, [id]: v })}
            error={licences.errorFor('licences')}
          />
          <div class="form-actions">
            <Button type="submit" variant="primary" busy={licences.busy}>
              {m.saveLicences}
            </Button>
          </div>
        </Form>
      ) : null}
      {ending ? (
        <ConfirmDialog
          title={m.terminateTitle}
          confirmLabel={m.terminate}
          onClose={() => setEnding(false)}
          onConfirm={async () => {
            await api.post(`/subscriptions/${seg(sub.id)}/terminate`);
            announce(m.terminated);
            await reload();
          }}
        >
          <p>{m.terminateBody(customer.name, sub.id)}</p>
        </ConfirmDialog>
      ) : null}
    </article>
  );
}

function NewSubscription({ customerId, classes, reload }: { customerId: string; classes: AccountClass[]; reload: () => Promise<void> }) {
  const m = messages(ops).customer;
  const [values, setValues] = useState<Record<string, string>>({});
  const [months, setMonths] = useState('12');
  const [cycle, setCycle] = useState<Cycle>('monthly');
  const [activate, setActivate] = useState(true);
  const form = useForm(async () => {
    await api.post('/subscriptions', { customerId, licences: licencesOf(values), months: Number(months), billingCycle: cycle, activate });
    announce(m.subscriptionCreated);
    setValues({});
    await reload();
  });
  return (
    <Section title={m.newSubscription}>
      <Form form={form} label={m.newSubscription}>
        <LicenceFields
          classes={classes}
          values={values}
          prefix="new"
          onValue={(id, v) => setValues({ ...values, [id]: v })}
          error={form.errorFor('licences')}
        />
        <TextField id="months" label={m.months} type="number" min={1} max={120} value={months} onValue={setMonths} error={form.errorFor('months')} />
        <SelectField
          id="billingCycle"
          label={m.cycle}
          value={cycle}
          onValue={setCycle}
          options={CYCLES.map((c) => ({ value: c, label: m.cycles[c] as string }))}
        />
        <Checkbox id="activate" label={m.activateNow} hint={m.activateNowHint} checked={activate} onValue={setActivate} />
        <div class="form-actions">
          <Button type="submit" variant="primary" busy={form.busy}>
            {m.createSubscription}
          </Button>
        </div>
      </Form>
    </Section>
  );
}

function Admins({ customerId }: { customerId: string }) {
  const m = messages(ops).customer;
  const [admins, reload] = useResource(() => api.get<{ items: Login[] }>(`/customers/${seg(customerId)}/admins`), [customerId]);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [generated, setGenerated] = useState<{ email: string; password: string } | undefined>(undefined);
  const form = useForm(async () => {
    const created = await api.post<Login & { generatedPassword?: string }>(`/customers/${seg(customerId)}/admins`, {
      email,
      ...(password ? { password } : {}),
    });
    setGenerated(created.generatedPassword ? { email: created.email, password: created.generatedPassword } : undefined);
    announce(m.adminAdded);
    setEmail('');
    setPassword('');
    await reload();
  });
  return (
    <Section title={m.admins}>
      <Load resource={admins} retry={reload}>
        {(data) =>
          data.items.length === 0 ? (
            <Empty title={m.noAdmin} />
          ) : (
            <Table
              caption={m.adminsCaption}
              rows={data.items}
              rowKey={(a) => a.id}
              columns={[
                { label: m.email, cell: (a) => a.email },
                { label: m.twoFactor, cell: (a) => <Status tone={a.twoFactorEnabled ? 'ok' : 'warn'}>{a.twoFactorEnabled ? m.on : m.off}</Status> },
                { label: messages(ops).customers.created, cell: (a) => formatDateTime(a.createdAt) },
              ]}
            />
          )
        }
      </Load>
      {generated ? (
        <div class="notice notice-ok" role="status">
          <p>{m.generated(generated.email)}</p>
          <code class="secret">{generated.password}</code>
        </div>
      ) : null}
      <h3>{m.addAdmin}</h3>
      <Form form={form} label={m.addAdmin}>
        <TextField id="admin-email" label={m.email} type="email" value={email} onValue={setEmail} error={form.errorFor('email')} autoComplete="off" />
        <TextField
          id="admin-password"
          label={m.password}
          hint={m.passwordHint}
          type="password"
          optional
          value={password}
          onValue={setPassword}
          error={form.errorFor('password')}
          autoComplete="new-password"
        />
        <div class="form-actions">
          <Button type="submit" busy={form.busy}>
            {m.addAdmin}
          </Button>
        </div>
      </Form>
    </Section>
  );
}

export default function Customer({ params }: { params: Params }) {
  const m = messages(ops).customer;
  const id = params.id as string;
  const [customer] = useResource(() => api.get<CustomerData>(`/customers/${seg(id)}`), [id]);
  const [subs, reloadSubs] = useResource(
    () =>
      Promise.all([
        api.get<{ items: Subscription[] }>(`/subscriptions${query({ customerId: id, limit: 100 })}`),
        api.get<{ items: AccountClass[] }>('/classes'),
      ]),
    [id],
  );
  const c = messages(ops).customers;
  return (
    <Load resource={customer}>
      {(data) => (
        <Page title={data.name}>
          <p>
            <a href="/ops/customers">{m.back}</a>
          </p>
          <Section title={m.profile}>
            <dl class="facts">
              <dt>{c.contact}</dt>
              <dd>{data.contactEmail}</dd>
              <dt>{c.status}</dt>
              <dd>
                <Status tone={data.status === 'active' ? 'ok' : 'warn'}>{c.statuses[data.status]}</Status>
              </dd>
              <dt>{c.language}</dt>
              <dd>{c.languages[data.language]}</dd>
              <dt>{c.phone}</dt>
              <dd>{data.phone ?? '—'}</dd>
              <dt>{m.address}</dt>
              <dd>{data.address ?? '—'}</dd>
              <dt>{m.vat}</dt>
              <dd>{data.vatNumber ?? '—'}</dd>
              <dt>{c.created}</dt>
              <dd>{formatDate(data.createdAt)}</dd>
            </dl>
          </Section>
          <Section title={m.subscriptions}>
            <Load resource={subs} retry={reloadSubs}>
              {([list, classes]) => (
                <>
                  {list.items.length === 0 ? <Empty title={m.noSubscription} /> : null}
                  {list.items.map((sub) => (
                    <SubscriptionCard key={sub.id} sub={sub} customer={data} classes={classes.items} reload={reloadSubs} />
                  ))}
                  <NewSubscription customerId={id} classes={classes.items} reload={reloadSubs} />
                </>
              )}
            </Load>
          </Section>
          <Admins customerId={id} />
        </Page>
      )}
    </Load>
  );
}
