/** Mailing lists (R-M1, R-T4): the subscription's lists, and a form to create one with its members and who may post. */
import { useState } from 'preact/hooks';
import { Button } from '../../../ds/Button.tsx';
import { Empty, Load, Table } from '../../../ds/Data.tsx';
import { SelectField, TextArea, TextField } from '../../../ds/Field.tsx';
import { Form, useForm } from '../../../ds/Form.tsx';
import { announce } from '../../../ds/Live.tsx';
import { Page, Section } from '../../../ds/Page.tsx';
import { api, seg } from '../../../lib/api.ts';
import { compareText, messages } from '../../../lib/i18n.ts';
import { useResource } from '../../../lib/resource.ts';
import { navigate } from '../../../lib/router.ts';
import { adminMail } from '../../../messages/admin-mail.ts';
import { addressLines, type SubscriptionDetails, WithSubscription, withSubscription } from './common.tsx';

export type Policy = 'members' | 'anyone' | 'moderators';
export const POLICIES: readonly Policy[] = ['members', 'anyone', 'moderators'];

export interface MailingList {
  id: string;
  address: string;
  name: string;
  postingPolicy: Policy;
  moderators: string[];
  members: string[];
  memberDetails: { address: string; bounceCount: number; lastBounceAt: string | null }[];
  createdAt: string;
}

function ListOfLists({ subscription }: { subscription: SubscriptionDetails }) {
  const m = messages(adminMail).lists;
  const [resource, reload] = useResource(() => api.get<{ items: MailingList[] }>(`/subscriptions/${seg(subscription.id)}/lists`), [subscription.id]);
  const [address, setAddress] = useState('');
  const [name, setName] = useState('');
  const [policy, setPolicy] = useState<Policy>('members');
  const [moderators, setModerators] = useState('');
  const [members, setMembers] = useState('');
  const create = useForm(async () => {
    const created = await api.post<MailingList>(`/subscriptions/${seg(subscription.id)}/lists`, {
      address: address.trim(),
      ...(name.trim() ? { name: name.trim() } : {}),
      postingPolicy: policy,
      moderators: addressLines(moderators),
      members: addressLines(members),
    });
    announce(m.created(created.address));
    navigate(withSubscription(`/admin/lists/${seg(created.id)}`));
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
                { label: m.address, cell: (row) => <a href={withSubscription(`/admin/lists/${seg(row.id)}`)}>{row.address}</a> },
                { label: m.name, cell: (row) => row.name },
                { label: m.policy, cell: (row) => m.policies[row.postingPolicy] ?? row.postingPolicy },
                { label: m.members, cell: (row) => m.memberCount(row.members.length), numeric: true },
              ]}
            />
          )
        }
      </Load>
      <Section title={m.createTitle}>
        <Form form={create} label={m.createTitle}>
          <TextField id="address" label={m.address} type="email" autoComplete="off" value={address} onValue={setAddress} error={create.errorFor('address')} />
          <TextField id="name" label={m.name} value={name} onValue={setName} error={create.errorFor('name')} optional />
          <SelectField
            id="postingPolicy"
            label={m.policy}
            value={policy}
            onValue={setPolicy}
            error={create.errorFor('postingPolicy')}
            options={POLICIES.map((p) => ({ value: p, label: m.policies[p] ?? p }))}
          />
          <TextArea
            id="moderators"
            label={m.moderators}
            hint={m.moderatorsHint}
            rows={2}
            value={moderators}
            onValue={setModerators}
            error={create.errorFor('moderators')}
            optional
          />
          <TextArea
            id="members"
            label={m.initialMembers}
            hint={m.membersHint}
            rows={4}
            value={members}
            onValue={setMembers}
            error={create.errorFor('members')}
            optional
          />
          <div class="form-actions">
            <Button type="submit" variant="primary" busy={create.busy}>
              {m.create}
            </Button>
          </div>
        </Form>
      </Section>
    </>
  );
}

export default function Lists() {
  const m = messages(adminMail).lists;
  return (
    <Page title={m.title}>
      <p class="muted">{m.intro}</p>
      <WithSubscription>{(subscription) => <ListOfLists subscription={subscription} />}</WithSubscription>
    </Page>
  );
}
