/**
 * The subscription's domains (R-T3, R-T4): their state, and adding one. Adding runs in the background
 * (202 + operation: the DKIM key is made and the records checked); the form shows its progress, then
 * opens the new domain's DNS wizard. A change refused because another operation runs shows the 409's
 * message.
 */
import { useState } from 'preact/hooks';
import { Button } from '../../ds/Button.tsx';
import { Empty, Load, Status, Table } from '../../ds/Data.tsx';
import { TextField } from '../../ds/Field.tsx';
import { Form, useForm } from '../../ds/Form.tsx';
import { announce } from '../../ds/Live.tsx';
import { Page, Section } from '../../ds/Page.tsx';
import { api, query, seg } from '../../lib/api.ts';
import { formatNumber, messages } from '../../lib/i18n.ts';
import { useResource } from '../../lib/resource.ts';
import { navigate } from '../../lib/router.ts';
import { subscriptionTexts } from '../../messages/admin-subscription.ts';
import { OperationProgress, untilDone } from './operation.tsx';
import { loadSubscriptions, SubscriptionPicker, selectedId } from './subscriptions.tsx';
import type { Domain, Operation, SubscriptionDetails } from './types.ts';

export default function Domains() {
  const m = messages(subscriptionTexts);
  const [subscriptions, reload] = useResource(loadSubscriptions);
  return (
    <Page title={m.domains.title}>
      <p class="muted">{m.domains.intro}</p>
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
              <DomainList key={subscription.id} subscription={subscription} />
            </>
          );
        }}
      </Load>
    </Page>
  );
}

function DomainList({ subscription }: { subscription: SubscriptionDetails }) {
  const m = messages(subscriptionTexts).domains;
  const [domains, reload] = useResource(() => api.get<{ items: Domain[] }>(`/domains${query({ subscriptionId: subscription.id })}`), [subscription.id]);
  return (
    <>
      <Section title={m.title}>
        <Load resource={domains} retry={reload}>
          {({ items }) =>
            items.length ? (
              <Table
                caption={m.caption}
                rowKey={(d) => d.id}
                rows={items}
                columns={[
                  {
                    label: m.name,
                    cell: (d) => (
                      <a class="wrap-anywhere" href={`/admin/domains/${seg(d.id)}`}>
                        {d.displayName}
                      </a>
                    ),
                  },
                  { label: m.status, cell: (d) => <Status tone={d.status === 'active' ? 'ok' : 'warn'}>{m.statuses[d.status]}</Status> },
                  { label: m.aliases, numeric: true, cell: (d) => formatNumber(d.aliases.length) },
                  {
                    label: m.records,
                    cell: (d) => (
                      <a href={`/admin/domains/${seg(d.id)}`}>
                        {m.records}
                        <span class="visually-hidden"> — {d.displayName}</span>
                      </a>
                    ),
                  },
                ]}
              />
            ) : (
              <Empty title={m.none}>
                <p>{m.noneBody}</p>
              </Empty>
            )
          }
        </Load>
      </Section>
      {subscription.status !== 'ended' ? <AddDomain subscription={subscription} /> : null}
    </>
  );
}

function AddDomain({ subscription }: { subscription: SubscriptionDetails }) {
  const m = messages(subscriptionTexts).domains;
  const [name, setName] = useState('');
  const [op, setOp] = useState<Operation | undefined>(undefined);
  const form = useForm(async () => {
    const started = await api.post<Operation>(`/subscriptions/${seg(subscription.id)}/domains`, { name: name.trim() });
    try {
      const done = await untilDone(started, setOp);
      const domainId = String(done.result?.domainId ?? '');
      announce(m.added(name.trim()));
      navigate(`/admin/domains/${seg(domainId)}`);
    } finally {
      setOp(undefined);
    }
  });
  return (
    <Section title={m.add}>
      <Form form={form} label={m.add} fieldIds={{ name: 'domain-name' }}>
        <TextField id="domain-name" label={m.addField} hint={m.addHint} value={name} onValue={setName} maxLength={255} error={form.errorFor('name')} />
        <OperationProgress op={op} what={m.adding(name.trim())} />
        <div class="form-actions">
          <Button type="submit" variant="primary" busy={form.busy}>
            {m.addSubmit}
          </Button>
        </div>
      </Form>
    </Section>
  );
}
