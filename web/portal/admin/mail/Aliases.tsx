/**
 * Address aliases (R-M1, R-T4): an address at one of the customer's domains forwarding to others. The
 * list, a form to add one, and for each its destinations to change, or its removal (confirmed, naming
 * the alias and where its mail went).
 */
import { useState } from 'preact/hooks';
import { Button } from '../../../ds/Button.tsx';
import { Empty, Load, Table } from '../../../ds/Data.tsx';
import { ConfirmDialog } from '../../../ds/Dialog.tsx';
import { TextArea, TextField } from '../../../ds/Field.tsx';
import { Form, useForm } from '../../../ds/Form.tsx';
import { announce } from '../../../ds/Live.tsx';
import { Page, Section } from '../../../ds/Page.tsx';
import { api, seg } from '../../../lib/api.ts';
import { compareText, messages } from '../../../lib/i18n.ts';
import { useResource } from '../../../lib/resource.ts';
import { adminMail } from '../../../messages/admin-mail.ts';
import { addressLines, type SubscriptionDetails, WithSubscription } from './common.tsx';

export interface Alias {
  id: string;
  address: string;
  destinations: string[];
  createdAt: string;
}

/** An alias's destinations, changed in place. */
function EditAlias({ alias, onDone }: { alias: Alias; onDone: () => Promise<void> }) {
  const m = messages(adminMail).aliases;
  const [destinations, setDestinations] = useState(alias.destinations.join('\n'));
  const form = useForm(async () => {
    await api.patch(`/aliases/${seg(alias.id)}`, { destinations: addressLines(destinations) });
    announce(m.saved(alias.address));
    await onDone();
  });
  return (
    <Form form={form} label={m.edit(alias.address)} fieldIds={{ destinations: `destinations-${alias.id}` }}>
      <TextArea
        id={`destinations-${alias.id}`}
        label={m.destinations}
        hint={m.destinationsHint}
        rows={3}
        value={destinations}
        onValue={setDestinations}
        error={form.errorFor('destinations')}
      />
      <div class="form-actions">
        <Button type="submit" busy={form.busy}>
          {m.save}
        </Button>
      </div>
    </Form>
  );
}

function AliasList({ subscription }: { subscription: SubscriptionDetails }) {
  const m = messages(adminMail).aliases;
  const [resource, reload] = useResource(() => api.get<{ items: Alias[] }>(`/subscriptions/${seg(subscription.id)}/aliases`), [subscription.id]);
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const [removing, setRemoving] = useState<Alias | undefined>(undefined);
  const [address, setAddress] = useState('');
  const [destinations, setDestinations] = useState('');
  const add = useForm(async () => {
    const created = await api.post<Alias>(`/subscriptions/${seg(subscription.id)}/aliases`, {
      address: address.trim(),
      destinations: addressLines(destinations),
    });
    announce(m.added(created.address));
    setAddress('');
    setDestinations('');
    await reload();
  });
  return (
    <>
      <Load resource={resource} retry={reload}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty title={m.emptyTitle}>
              <p>{m.emptyBody}</p>
            </Empty>
          ) : (
            <Table
              caption={m.caption}
              rowKey={(row) => row.id}
              rows={[...items].sort((a, b) => compareText(a.address, b.address))}
              columns={[
                { label: m.address, cell: (row) => row.address },
                {
                  label: m.destinations,
                  cell: (row) =>
                    editing === row.id ? (
                      <EditAlias
                        alias={row}
                        onDone={async () => {
                          setEditing(undefined);
                          await reload();
                        }}
                      />
                    ) : (
                      <ul class="plain">
                        {row.destinations.map((d) => (
                          <li key={d}>{d}</li>
                        ))}
                      </ul>
                    ),
                },
                {
                  label: m.actions,
                  cell: (row) => (
                    <div class="row-actions">
                      {editing === row.id ? null : (
                        <Button onClick={() => setEditing(row.id)} aria-label={m.edit(row.address)}>
                          {m.editButton}
                        </Button>
                      )}
                      <Button variant="danger" onClick={() => setRemoving(row)} aria-label={m.removeLabel(row.address)}>
                        {m.remove}
                      </Button>
                    </div>
                  ),
                },
              ]}
            />
          )
        }
      </Load>
      <Section title={m.addTitle}>
        <Form form={add} label={m.addTitle}>
          <TextField id="address" label={m.address} type="email" autoComplete="off" value={address} onValue={setAddress} error={add.errorFor('address')} />
          <TextArea
            id="destinations"
            label={m.destinations}
            hint={m.destinationsHint}
            rows={3}
            value={destinations}
            onValue={setDestinations}
            error={add.errorFor('destinations')}
          />
          <div class="form-actions">
            <Button type="submit" variant="primary" busy={add.busy}>
              {m.add}
            </Button>
          </div>
        </Form>
      </Section>
      {removing ? (
        <ConfirmDialog
          title={m.removeTitle(removing.address)}
          confirmLabel={m.remove}
          onClose={() => setRemoving(undefined)}
          onConfirm={async () => {
            await api.delete(`/aliases/${seg(removing.id)}`);
            announce(m.removed(removing.address));
            await reload();
          }}
        >
          <p>{m.removeBody(removing.address, removing.destinations.length)}</p>
          <ul class="plain">
            {removing.destinations.map((d) => (
              <li key={d}>{d}</li>
            ))}
          </ul>
        </ConfirmDialog>
      ) : null}
    </>
  );
}

export default function Aliases() {
  const m = messages(adminMail).aliases;
  return (
    <Page title={m.title}>
      <p class="muted">{m.intro}</p>
      <WithSubscription>{(subscription) => <AliasList subscription={subscription} />}</WithSubscription>
    </Page>
  );
}
