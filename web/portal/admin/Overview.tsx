/**
 * The subscription at a glance (R-T4, R-T6, §6, §8): licences per class used / bought, the period, its
 * renewal, the billing cycle, domains and labels, the sending limits in force; and the changes a
 * customer admin makes to it: labels, billing cycle, renewal for another duration, cancellation at
 * the period's end (a long operation, with its progress) and its withdrawal.
 */
import { useState } from 'preact/hooks';
import { Button, LinkButton } from '../../ds/Button.tsx';
import { Empty, Load, Status, Table } from '../../ds/Data.tsx';
import { ConfirmDialog } from '../../ds/Dialog.tsx';
import { SelectField, TextField } from '../../ds/Field.tsx';
import { Form, useForm } from '../../ds/Form.tsx';
import { announce } from '../../ds/Live.tsx';
import { Page, Section } from '../../ds/Page.tsx';
import { api, query, seg } from '../../lib/api.ts';
import { formatDate, formatNumber, lang, messages } from '../../lib/i18n.ts';
import { useResource } from '../../lib/resource.ts';
import { subscriptionTexts } from '../../messages/admin-subscription.ts';
import { common } from '../../messages/common.ts';
import { formatSize } from './format.ts';
import { OperationProgress, untilDone } from './operation.tsx';
import { loadSubscriptions, SubscriptionPicker, selectedId } from './subscriptions.tsx';
import type { BillingCycle, Label, Operation, SubscriptionDetails } from './types.ts';

const COLORS = ['none', '#1d4ed8', '#166534', '#8a4b00', '#b42318', '#6b21a8', '#545d68'] as const;
type ColorChoice = (typeof COLORS)[number];
const CYCLES: readonly BillingCycle[] = ['monthly', 'quarterly', 'yearly'];

export default function Overview() {
  const m = messages(subscriptionTexts);
  const [subscriptions, reload] = useResource(loadSubscriptions);
  return (
    <Page title={m.overview.title}>
      <Load resource={subscriptions} retry={reload}>
        {(list) => {
          const id = selectedId(list);
          const subscription = list.find((s) => s.id === id);
          if (!subscription) {
            return (
              <Empty title={m.picker.none}>
                <p>{m.picker.noneBody}</p>
              </Empty>
            );
          }
          return (
            <>
              <SubscriptionPicker subscriptions={list} selected={subscription.id} />
              <SubscriptionView key={subscription.id} subscription={subscription} reload={reload} />
            </>
          );
        }}
      </Load>
    </Page>
  );
}

function SubscriptionView({ subscription: s, reload }: { subscription: SubscriptionDetails; reload: () => Promise<void> }) {
  const m = messages(subscriptionTexts);
  const o = m.overview;
  const className = (id: string) => s.classes.find((c) => c.id === id)?.name[lang.value] ?? id;
  const statusText = s.status === 'active' && s.cancelAtPeriodEnd ? o.cancelling : o.statuses[s.status];
  const tone = s.status === 'active' ? (s.cancelAtPeriodEnd ? 'warn' : 'ok') : s.status === 'pending' ? 'info' : 'error';
  const months = (n: number) => o.months(n);
  let renewal: string;
  if (s.status === 'ended') renewal = o.endedOn(formatDate(s.endedAt));
  else if (s.status === 'pending') renewal = o.startsAtActivation(months(s.periodMonths));
  else if (s.cancelAtPeriodEnd) renewal = o.endsOn(formatDate(s.currentPeriodEnd));
  else renewal = o.renewsOn(formatDate(s.currentPeriodEnd), months(s.nextPeriodMonths ?? s.periodMonths));
  const link = (path: string) => `${path}${query({ s: s.id })}`;
  return (
    <>
      <Section title={o.details}>
        <dl class="facts wrap-anywhere">
          <dt>{o.status}</dt>
          <dd>
            <Status tone={tone}>{statusText}</Status>
          </dd>
          <dt>{o.start}</dt>
          <dd>{formatDate(s.currentPeriodStart)}</dd>
          <dt>{o.end}</dt>
          <dd>{formatDate(s.currentPeriodEnd)}</dd>
          <dt>{o.duration}</dt>
          <dd>{months(s.periodMonths)}</dd>
          <dt>{o.renewal}</dt>
          <dd>{renewal}</dd>
          <dt>{o.billingCycle}</dt>
          <dd>{o.cycles[s.billingCycle]}</dd>
          <dt>{o.accounts}</dt>
          <dd>{formatNumber(s.accountCount)}</dd>
          <dt>{m.labels.title}</dt>
          <dd>{s.labels.length ? s.labels.map((l) => l.name).join(', ') : '—'}</dd>
        </dl>
      </Section>

      <Section title={o.licences}>
        <Table
          caption={o.licences}
          rowKey={(l) => l.classId}
          rows={s.licences}
          columns={[
            { label: o.className, cell: (l) => className(l.classId) },
            { label: o.used, numeric: true, cell: (l) => o.usedOf(formatNumber(l.used), formatNumber(l.quantity)) },
            { label: o.available, numeric: true, cell: (l) => formatNumber(l.available) },
            { label: o.quota, numeric: true, cell: (l) => formatSize(s.classes.find((c) => c.id === l.classId)?.quotaBytes ?? 0, lang.value) },
          ]}
        />
      </Section>

      <Section title={o.limits}>
        <p class="muted">{o.limitsIntro}</p>
        <Table
          caption={o.limits}
          rowKey={(c) => c.id}
          rows={s.classes}
          columns={[
            { label: o.className, cell: (c) => c.name[lang.value] },
            { label: o.perMinute, numeric: true, cell: (c) => formatNumber(c.limits.messagesPerMinutePerRecipient) },
            { label: o.perMessage, numeric: true, cell: (c) => formatNumber(c.limits.recipientsPerMessage) },
            { label: o.maxSize, numeric: true, cell: (c) => formatSize(c.limits.maxMessageBytes, lang.value) },
            { label: o.standardSize, numeric: true, cell: (c) => formatSize(c.limits.standardMessageBytes, lang.value) },
            { label: o.perHour, numeric: true, cell: (c) => (c.limits.recipientsPerHour === null ? o.noLimit : formatNumber(c.limits.recipientsPerHour)) },
            { label: o.perDay, numeric: true, cell: (c) => (c.limits.recipientsPerDay === null ? o.noLimit : formatNumber(c.limits.recipientsPerDay)) },
          ]}
        />
      </Section>

      <Section title={o.domains} actions={<LinkButton href={link('/admin/domains')}>{s.domains.length ? o.manageDomains : o.addDomain}</LinkButton>}>
        {s.domains.length ? (
          <ul>
            {s.domains.map((d) => (
              <li key={d.id}>
                <a href={`/admin/domains/${seg(d.id)}`}>{d.displayName}</a>{' '}
                <Status tone={d.status === 'active' ? 'ok' : 'warn'}>{m.domains.statuses[d.status as 'active' | 'pending'] ?? d.status}</Status>
              </li>
            ))}
          </ul>
        ) : (
          <Empty title={o.noDomains}>
            <p>{o.noDomainsBody}</p>
          </Empty>
        )}
      </Section>

      <Labels subscription={s} reload={reload} />
      {s.status !== 'ended' ? <BillingCycleForm subscription={s} reload={reload} /> : null}
      {s.status === 'active' ? <RenewalForm subscription={s} reload={reload} /> : null}
      <Cancellation subscription={s} reload={reload} />
      <p>
        <a href={link('/admin/operations')}>{m.journal.link}</a>
      </p>
    </>
  );
}

function ColorSwatch({ color }: { color: string | null }) {
  if (!color) return null;
  // Set through the CSSOM (Preact's style object), which the strict CSP allows, unlike a style attribute in markup.
  return <span class="swatch" aria-hidden="true" style={{ backgroundColor: color }} />;
}

function colorOptions() {
  const m = messages(subscriptionTexts).labels;
  return COLORS.map((value) => ({ value, label: m.colors[value] }));
}

function Labels({ subscription, reload }: { subscription: SubscriptionDetails; reload: () => Promise<void> }) {
  const m = messages(subscriptionTexts).labels;
  const [name, setName] = useState('');
  const [color, setColor] = useState<ColorChoice>('none');
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const [removing, setRemoving] = useState<Label | undefined>(undefined);
  const form = useForm(async () => {
    const label = await api.post<Label>(`/subscriptions/${seg(subscription.id)}/labels`, { name, color: color === 'none' ? null : color });
    setName('');
    setColor('none');
    announce(m.added(label.name));
    await reload();
  });
  return (
    <Section title={m.title}>
      <p class="muted">{m.intro}</p>
      {subscription.labels.length ? (
        <ul class="plain-list" aria-label={m.title}>
          {subscription.labels.map((label) =>
            editing === label.id ? (
              <li key={label.id}>
                <EditLabel label={label} onDone={() => setEditing(undefined)} reload={reload} />
              </li>
            ) : (
              <li key={label.id} class="row">
                <span class="label-chip">
                  <ColorSwatch color={label.color} />
                  {label.name}
                </span>
                <span class="page-actions">
                  <Button aria-label={m.editLabel(label.name)} onClick={() => setEditing(label.id)}>
                    {m.edit}
                  </Button>
                  <Button variant="danger" aria-label={m.removeLabel(label.name)} onClick={() => setRemoving(label)}>
                    {m.remove}
                  </Button>
                </span>
              </li>
            ),
          )}
        </ul>
      ) : (
        <p>{m.none}</p>
      )}
      <Form form={form} label={m.newLabel} fieldIds={{ name: 'label-name', color: 'label-color' }}>
        <h3>{m.newLabel}</h3>
        <div class="grid">
          <TextField id="label-name" label={m.name} value={name} onValue={setName} maxLength={64} error={form.errorFor('name')} />
          <SelectField id="label-color" label={m.color} value={color} options={colorOptions()} onValue={setColor} error={form.errorFor('color')} />
        </div>
        <div class="form-actions">
          <Button type="submit" variant="primary" busy={form.busy}>
            {m.add}
          </Button>
        </div>
      </Form>
      {removing ? (
        <ConfirmDialog
          title={m.confirmTitle}
          confirmLabel={m.remove}
          onClose={() => setRemoving(undefined)}
          onConfirm={async () => {
            await api.delete(`/labels/${seg(removing.id)}`);
            announce(m.removed(removing.name));
            await reload();
          }}
        >
          <p>{m.confirmBody(removing.name)}</p>
        </ConfirmDialog>
      ) : null}
    </Section>
  );
}

function EditLabel({ label, onDone, reload }: { label: Label; onDone: () => void; reload: () => Promise<void> }) {
  const m = messages(subscriptionTexts).labels;
  const [name, setName] = useState(label.name);
  const [color, setColor] = useState<ColorChoice>(
    (COLORS as readonly string[]).includes(label.color ?? 'none') ? ((label.color ?? 'none') as ColorChoice) : 'none',
  );
  const form = useForm(async () => {
    const saved = await api.patch<Label>(`/labels/${seg(label.id)}`, { name, color: color === 'none' ? null : color });
    announce(m.saved(saved.name));
    onDone();
    await reload();
  });
  const id = `edit-${label.id}`;
  return (
    <Form form={form} label={m.editLabel(label.name)} fieldIds={{ name: `${id}-name`, color: `${id}-color` }}>
      <div class="grid">
        <TextField id={`${id}-name`} label={m.name} value={name} onValue={setName} maxLength={64} error={form.errorFor('name')} />
        <SelectField id={`${id}-color`} label={m.color} value={color} options={colorOptions()} onValue={setColor} error={form.errorFor('color')} />
      </div>
      <div class="form-actions">
        <Button type="submit" variant="primary" busy={form.busy}>
          {m.save}
        </Button>
        <Button onClick={onDone}>{messages(common).cancel}</Button>
      </div>
    </Form>
  );
}

function BillingCycleForm({ subscription, reload }: { subscription: SubscriptionDetails; reload: () => Promise<void> }) {
  const m = messages(subscriptionTexts);
  const [cycle, setCycle] = useState<BillingCycle>(subscription.billingCycle);
  const form = useForm(async () => {
    const saved = await api.post<SubscriptionDetails>(`/subscriptions/${seg(subscription.id)}/billing-cycle`, { billingCycle: cycle });
    announce(m.cycle.saved(m.overview.cycles[saved.billingCycle].toLowerCase()));
    await reload();
  });
  return (
    <Section title={m.cycle.title}>
      <p class="muted">{m.cycle.intro}</p>
      <Form form={form} fieldIds={{ billingCycle: 'billing-cycle' }}>
        <SelectField
          id="billing-cycle"
          label={m.cycle.field}
          value={cycle}
          options={CYCLES.map((value) => ({ value, label: m.overview.cycles[value] }))}
          onValue={setCycle}
          error={form.errorFor('billingCycle')}
        />
        <div class="form-actions">
          <Button type="submit" variant="primary" busy={form.busy} disabled={cycle === subscription.billingCycle}>
            {m.cycle.save}
          </Button>
        </div>
      </Form>
    </Section>
  );
}

function RenewalForm({ subscription, reload }: { subscription: SubscriptionDetails; reload: () => Promise<void> }) {
  const m = messages(subscriptionTexts);
  const [months, setMonths] = useState(String(subscription.nextPeriodMonths ?? subscription.periodMonths));
  const form = useForm(async () => {
    const saved = await api.post<SubscriptionDetails>(`/subscriptions/${seg(subscription.id)}/renewal`, { months: Number(months) });
    announce(m.renew.done(m.overview.months(saved.nextPeriodMonths ?? saved.periodMonths)));
    await reload();
  });
  return (
    <Section title={m.renew.title}>
      <p class="muted">{m.renew.intro}</p>
      <p>{m.renew.current(m.overview.months(subscription.nextPeriodMonths ?? subscription.periodMonths))}</p>
      <Form form={form} fieldIds={{ months: 'renewal-months' }}>
        <TextField
          id="renewal-months"
          label={m.renew.field}
          type="number"
          inputMode="numeric"
          min={1}
          max={120}
          value={months}
          onValue={setMonths}
          error={form.errorFor('months')}
        />
        <div class="form-actions">
          <Button type="submit" variant="primary" busy={form.busy}>
            {m.renew.submit}
          </Button>
        </div>
      </Form>
    </Section>
  );
}

function Cancellation({ subscription: s, reload }: { subscription: SubscriptionDetails; reload: () => Promise<void> }) {
  const m = messages(subscriptionTexts);
  const c = m.cancel;
  const [asking, setAsking] = useState(false);
  const [op, setOp] = useState<Operation | undefined>(undefined);
  const resume = useForm(async () => {
    await api.post(`/subscriptions/${seg(s.id)}/resume`);
    announce(c.resumed);
    await reload();
  });
  const end = formatDate(s.currentPeriodEnd);
  if (s.status === 'ended') {
    return (
      <Section title={c.title}>
        <p>{c.ended}</p>
      </Section>
    );
  }
  return (
    <Section title={c.title}>
      {s.cancelAtPeriodEnd ? (
        <>
          <div class="notice notice-warn">
            <p>
              <Status tone="warn">{c.cancelled(end)}</Status>
            </p>
            <p>{c.cancelledOn(formatDate(s.cancelledAt))}</p>
            <p>{c.after}</p>
          </div>
          <Form form={resume}>
            <div class="form-actions">
              <Button type="submit" variant="primary" busy={resume.busy}>
                {c.resume}
              </Button>
            </div>
          </Form>
        </>
      ) : (
        <>
          <p>{c.intro(end)}</p>
          <p>{c.after}</p>
          <OperationProgress op={op} what={m.kinds['subscription.cancel'] as string} />
          <Button variant="danger" onClick={() => setAsking(true)}>
            {c.button}
          </Button>
        </>
      )}
      {asking ? (
        <ConfirmDialog
          title={c.confirmTitle}
          confirmLabel={c.confirm}
          onClose={() => setAsking(false)}
          onConfirm={async () => {
            const started = await api.post<Operation>(`/subscriptions/${seg(s.id)}/cancel`);
            try {
              await untilDone(started, setOp);
            } finally {
              setOp(undefined);
            }
            announce(c.cancelled(end));
            await reload();
          }}
        >
          <p>{c.confirmBody(end)}</p>
          <p>{c.confirmLoss(s.domains.length, s.accountCount)}</p>
          <p>{c.after}</p>
          <OperationProgress op={op} what={m.kinds['subscription.cancel'] as string} />
        </ConfirmDialog>
      ) : null}
    </Section>
  );
}
