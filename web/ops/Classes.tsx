/** Classes and their limits (R-T2, R-M5): quota, sending limits and features, changed by the operator without code. */
import { useState } from 'preact/hooks';
import { Button } from '../ds/Button.tsx';
import { Load, Table } from '../ds/Data.tsx';
import { Checkbox, TextField } from '../ds/Field.tsx';
import { Form, useForm } from '../ds/Form.tsx';
import { announce } from '../ds/Live.tsx';
import { Page, Section } from '../ds/Page.tsx';
import { api, seg } from '../lib/api.ts';
import { formatBytes, formatNumber, lang, messages } from '../lib/i18n.ts';
import { useResource } from '../lib/resource.ts';
import { ops } from '../messages/ops.ts';
import { type AccountClass, FEATURES } from './types.ts';

const MB = 1_000_000;

interface Draft {
  quotaMb: string;
  perMinute: string;
  perMessage: string;
  maxMb: string;
  perHour: string;
  perDay: string;
  features: string[];
}

const text = (n: number | null) => (n === null ? '' : String(n));
const mb = (bytes: number) => String(Math.round((bytes / MB) * 100) / 100);

function draftOf(c: AccountClass): Draft {
  return {
    quotaMb: mb(c.quotaBytes),
    perMinute: text(c.limits.messagesPerMinutePerRecipient),
    perMessage: text(c.limits.recipientsPerMessage),
    maxMb: mb(c.limits.maxMessageBytes),
    perHour: text(c.limits.recipientsPerHour),
    perDay: text(c.limits.recipientsPerDay),
    features: [...c.features],
  };
}

/** The draft as the API's body; a field left empty is no limit (per hour, per day). */
function bodyOf(d: Draft) {
  const int = (v: string) => (v.trim() === '' ? Number.NaN : Number(v));
  return {
    quotaBytes: Math.round(int(d.quotaMb) * MB),
    limits: {
      messagesPerMinutePerRecipient: int(d.perMinute),
      recipientsPerMessage: int(d.perMessage),
      maxMessageBytes: Math.round(int(d.maxMb) * MB),
      recipientsPerHour: d.perHour.trim() === '' ? null : int(d.perHour),
      recipientsPerDay: d.perDay.trim() === '' ? null : int(d.perDay),
    },
    features: d.features,
  };
}

/**
 * Only what the operator changed: sizes are shown in MB, rounded, so sending an untouched 5 GiB quota
 * back would change it by a few bytes.
 */
function changesOf(draft: Draft, before: Draft) {
  const full = bodyOf(draft);
  const limits: Record<string, number | null> = {};
  const pairs = [
    ['perMinute', 'messagesPerMinutePerRecipient'],
    ['perMessage', 'recipientsPerMessage'],
    ['maxMb', 'maxMessageBytes'],
    ['perHour', 'recipientsPerHour'],
    ['perDay', 'recipientsPerDay'],
  ] as const;
  for (const [key, field] of pairs) if (draft[key] !== before[key]) limits[field] = full.limits[field];
  return {
    ...(draft.quotaMb !== before.quotaMb ? { quotaBytes: full.quotaBytes } : {}),
    ...(Object.keys(limits).length ? { limits } : {}),
    ...(draft.features.join() !== before.features.join() ? { features: draft.features } : {}),
  };
}

function LimitFields({
  draft,
  set,
  prefix,
  errorFor,
}: {
  draft: Draft;
  set: (d: Draft) => void;
  prefix: string;
  errorFor: (field: string) => string | undefined;
}) {
  const m = messages(ops).classes;
  const field = (key: keyof Omit<Draft, 'features'>, label: string, api: string, hint?: string, optional?: boolean) => (
    <TextField
      id={`${prefix}-${key}`}
      label={label}
      hint={hint}
      optional={optional}
      type="number"
      min={0}
      value={draft[key]}
      onValue={(v) => set({ ...draft, [key]: v })}
      error={errorFor(api)}
    />
  );
  return (
    <>
      {field('quotaMb', m.quota, 'quotaBytes')}
      <fieldset class="fieldset">
        <legend>{m.limits}</legend>
        <div class="grid">
          {field('perMinute', m.perMinute, 'limits.messagesPerMinutePerRecipient')}
          {field('perMessage', m.perMessage, 'limits.recipientsPerMessage')}
          {field('maxMb', m.maxSize, 'limits.maxMessageBytes')}
          {field('perHour', m.perHour, 'limits.recipientsPerHour', m.noLimitHint, true)}
          {field('perDay', m.perDay, 'limits.recipientsPerDay', m.noLimitHint, true)}
        </div>
      </fieldset>
      <fieldset class="fieldset">
        <legend>{m.features}</legend>
        <div class="grid">
          {FEATURES.map((f) => (
            <Checkbox
              key={f}
              id={`${prefix}-feature-${f}`}
              label={m.featureNames[f] ?? f}
              checked={draft.features.includes(f)}
              onValue={(on) => set({ ...draft, features: on ? [...draft.features, f] : draft.features.filter((x) => x !== f) })}
            />
          ))}
        </div>
      </fieldset>
    </>
  );
}

function EditClass({ item, done }: { item: AccountClass; done: (saved: boolean) => void }) {
  const m = messages(ops).classes;
  const [draft, setDraft] = useState(() => draftOf(item));
  const name = item.name[lang.value];
  const form = useForm(async () => {
    await api.patch(`/classes/${seg(item.id)}`, changesOf(draft, draftOf(item)));
    announce(m.saved);
    done(true);
  });
  return (
    <Section title={m.editTitle(name)}>
      <Form form={form} label={m.editTitle(name)}>
        <LimitFields draft={draft} set={setDraft} prefix={`edit-${item.id}`} errorFor={form.errorFor} />
        <div class="form-actions">
          <Button type="submit" variant="primary" busy={form.busy}>
            {m.save}
          </Button>
          <Button onClick={() => done(false)}>{m.cancel}</Button>
        </div>
      </Form>
    </Section>
  );
}

function NewClass({ created }: { created: () => void }) {
  const m = messages(ops).classes;
  const [id, setId] = useState('');
  const [nameEn, setNameEn] = useState('');
  const [nameFr, setNameFr] = useState('');
  const [draft, setDraft] = useState<Draft>({
    quotaMb: '5000',
    perMinute: '100',
    perMessage: '100',
    maxMb: '50',
    perHour: '',
    perDay: '',
    features: ['imap', 'pop3', 'webmail'],
  });
  const form = useForm(async () => {
    await api.post('/classes', { id, name: { en: nameEn, fr: nameFr }, ...bodyOf(draft) });
    announce(m.created);
    setId('');
    setNameEn('');
    setNameFr('');
    created();
  });
  return (
    <Section title={m.newTitle}>
      <Form form={form} label={m.newTitle}>
        <TextField id="class-id" label={m.id} hint={m.idHint} value={id} onValue={setId} error={form.errorFor('id')} />
        <div class="grid">
          <TextField id="class-name-en" label={m.nameEn} value={nameEn} onValue={setNameEn} error={form.errorFor('name.en')} lang="en" />
          <TextField id="class-name-fr" label={m.nameFr} value={nameFr} onValue={setNameFr} error={form.errorFor('name.fr')} lang="fr" />
        </div>
        <LimitFields draft={draft} set={setDraft} prefix="new" errorFor={form.errorFor} />
        <div class="form-actions">
          <Button type="submit" variant="primary" busy={form.busy}>
            {m.create}
          </Button>
        </div>
      </Form>
    </Section>
  );
}

export default function Classes() {
  const m = messages(ops).classes;
  const [classes, reload] = useResource(() => api.get<{ items: AccountClass[] }>('/classes'));
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const limit = (n: number | null) => (n === null ? m.noLimit : formatNumber(n));
  return (
    <Page title={m.title}>
      <p>{m.intro}</p>
      <Load resource={classes} retry={reload}>
        {(data) => {
          const current = data.items.find((c) => c.id === editing);
          return (
            <>
              <Table
                caption={m.caption}
                rows={data.items}
                rowKey={(c) => c.id}
                columns={[
                  {
                    label: m.name,
                    cell: (c) => (
                      <>
                        {c.name[lang.value]} <code class="muted">{c.id}</code>
                      </>
                    ),
                  },
                  { label: m.quotaColumn, numeric: true, cell: (c) => formatBytes(c.quotaBytes) },
                  {
                    label: m.limits,
                    cell: (c) => (
                      <>
                        {m.limitsText(
                          formatNumber(c.limits.messagesPerMinutePerRecipient),
                          formatNumber(c.limits.recipientsPerMessage),
                          formatBytes(c.limits.maxMessageBytes),
                        )}
                        <br />
                        <span class="muted">
                          {m.perHour}: {limit(c.limits.recipientsPerHour)} · {m.perDay}: {limit(c.limits.recipientsPerDay)}
                        </span>
                      </>
                    ),
                  },
                  { label: m.features, cell: (c) => c.features.map((f) => m.featureNames[f] ?? f).join(', ') },
                  {
                    label: m.actions,
                    cell: (c) => (
                      <Button onClick={() => setEditing(c.id)} aria-expanded={editing === c.id}>
                        {m.edit(c.name[lang.value])}
                      </Button>
                    ),
                  },
                ]}
              />
              {current ? (
                <EditClass
                  key={current.id}
                  item={current}
                  done={(saved) => {
                    setEditing(undefined);
                    if (saved) void reload();
                  }}
                />
              ) : null}
            </>
          );
        }}
      </Load>
      <NewClass created={() => void reload()} />
    </Page>
  );
}
