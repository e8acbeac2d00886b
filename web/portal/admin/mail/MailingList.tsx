/**
 * One mailing list: its settings (name, who may post, moderators), its members with the bounces their
 * servers sent (add several at once, remove one, confirmed), and the list's deletion, confirmed naming
 * what is lost.
 */
import { useState } from 'preact/hooks';
import { Button } from '../../../ds/Button.tsx';
import { Empty, Load, Table } from '../../../ds/Data.tsx';
import { ConfirmDialog } from '../../../ds/Dialog.tsx';
import { SelectField, TextArea, TextField } from '../../../ds/Field.tsx';
import { Form, useForm } from '../../../ds/Form.tsx';
import { announce } from '../../../ds/Live.tsx';
import { Page, Section } from '../../../ds/Page.tsx';
import { api, seg } from '../../../lib/api.ts';
import { formatDateTime, formatNumber, messages } from '../../../lib/i18n.ts';
import { useResource } from '../../../lib/resource.ts';
import { navigate, type Params } from '../../../lib/router.ts';
import { adminMail } from '../../../messages/admin-mail.ts';
import { addressLines, withSubscription } from './common.tsx';
import { type MailingList, POLICIES, type Policy } from './Lists.tsx';

function Settings({ list, onSaved }: { list: MailingList; onSaved: (list: MailingList) => void }) {
  const m = messages(adminMail);
  const [name, setName] = useState(list.name);
  const [policy, setPolicy] = useState<Policy>(list.postingPolicy);
  const [moderators, setModerators] = useState(list.moderators.join('\n'));
  const form = useForm(async () => {
    const saved = await api.patch<MailingList>(`/lists/${seg(list.id)}`, { name: name.trim(), postingPolicy: policy, moderators: addressLines(moderators) });
    announce(m.list.saved);
    onSaved(saved);
  });
  return (
    <Form form={form} label={m.list.settings}>
      <TextField id="name" label={m.lists.name} value={name} onValue={setName} error={form.errorFor('name')} />
      <SelectField
        id="postingPolicy"
        label={m.lists.policy}
        value={policy}
        onValue={setPolicy}
        error={form.errorFor('postingPolicy')}
        options={POLICIES.map((p) => ({ value: p, label: m.lists.policies[p] ?? p }))}
      />
      <TextArea
        id="moderators"
        label={m.lists.moderators}
        hint={m.lists.moderatorsHint}
        rows={2}
        value={moderators}
        onValue={setModerators}
        error={form.errorFor('moderators')}
        optional
      />
      <div class="form-actions">
        <Button type="submit" busy={form.busy}>
          {m.list.save}
        </Button>
      </div>
    </Form>
  );
}

function ListView({ list, setList }: { list: MailingList; setList: (list: MailingList) => void }) {
  const m = messages(adminMail);
  const [adding, setAdding] = useState('');
  const [removing, setRemoving] = useState<string | undefined>(undefined);
  const [deleting, setDeleting] = useState(false);
  const add = useForm(async () => {
    const addresses = addressLines(adding);
    const saved = await api.post<MailingList>(`/lists/${seg(list.id)}/members`, { addresses });
    announce(m.list.addedMembers(addresses.length));
    setAdding('');
    setList(saved);
  });
  return (
    <Page title={list.name}>
      <p>
        <a href={withSubscription('/admin/lists')}>{m.list.back}</a>
      </p>
      <p>
        <strong>{m.lists.address}:</strong> {list.address}
      </p>
      <Section title={m.list.members}>
        {list.memberDetails.length === 0 ? (
          <Empty title={m.list.noMembers} />
        ) : (
          <Table
            caption={m.list.membersCaption(list.address)}
            rowKey={(row) => row.address}
            rows={list.memberDetails}
            columns={[
              { label: m.list.member, cell: (row) => row.address },
              { label: m.list.bounces, cell: (row) => formatNumber(row.bounceCount), numeric: true },
              { label: m.list.lastBounce, cell: (row) => formatDateTime(row.lastBounceAt) },
              {
                label: m.aliases.actions,
                cell: (row) => (
                  <Button variant="danger" onClick={() => setRemoving(row.address)} aria-label={m.list.removeLabel(row.address)}>
                    {m.list.remove}
                  </Button>
                ),
              },
            ]}
          />
        )}
        <h3>{m.list.addMembers}</h3>
        <Form form={add} label={m.list.addMembers} fieldIds={{ addresses: 'addresses' }}>
          <TextArea
            id="addresses"
            label={m.list.addresses}
            hint={m.list.addressesHint}
            rows={3}
            value={adding}
            onValue={setAdding}
            error={add.errorFor('addresses')}
          />
          <div class="form-actions">
            <Button type="submit" variant="primary" busy={add.busy}>
              {m.list.add}
            </Button>
          </div>
        </Form>
      </Section>
      <Section title={m.list.settings}>
        <Settings list={list} onSaved={setList} />
      </Section>
      <Section title={m.list.deleteSection}>
        <Button variant="danger" onClick={() => setDeleting(true)}>
          {m.list.delete}
        </Button>
      </Section>
      {removing ? (
        <ConfirmDialog
          title={m.list.removeTitle(removing)}
          confirmLabel={m.list.remove}
          onClose={() => setRemoving(undefined)}
          onConfirm={async () => {
            setList(await api.delete<MailingList>(`/lists/${seg(list.id)}/members/${seg(removing)}`));
            announce(m.list.removed(removing));
          }}
        >
          <p>{m.list.removeBody(removing, list.address)}</p>
        </ConfirmDialog>
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title={m.list.deleteTitle(list.address)}
          confirmLabel={m.list.delete}
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await api.delete(`/lists/${seg(list.id)}`);
            announce(m.list.deleted(list.address));
            navigate(withSubscription('/admin/lists'));
          }}
        >
          <p>{m.list.deleteBody(list.address, list.members.length)}</p>
        </ConfirmDialog>
      ) : null}
    </Page>
  );
}

export default function MailingListPage({ params }: { params: Params }) {
  const id = params.id as string;
  const [resource, reload] = useResource(() => api.get<MailingList>(`/lists/${seg(id)}`), [id]);
  const [edited, setEdited] = useState<MailingList | undefined>(undefined);
  if (resource.status === 'loading' || resource.status === 'error') {
    return (
      <Page title={messages(adminMail).lists.title}>
        <Load resource={resource} retry={reload}>
          {() => null}
        </Load>
      </Page>
    );
  }
  return (
    <Load resource={resource} retry={reload}>
      {(loaded) => <ListView list={edited && edited.id === loaded.id ? edited : loaded} setList={setEdited} />}
    </Load>
  );
}
