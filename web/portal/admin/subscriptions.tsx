/**
 * The subscription a page is about: a customer with several picks one (their labels tell them apart),
 * kept in the URL (`?s=id`) so that a link or a reload shows the same one.
 */
import { SelectField } from '../../ds/Field.tsx';
import { api, query, seg } from '../../lib/api.ts';
import { messages } from '../../lib/i18n.ts';
import type { PageOf } from '../../lib/resource.ts';
import { here, navigate, pathOf, queryOf } from '../../lib/router.ts';
import { subscriptionTexts } from '../../messages/admin-subscription.ts';
import type { Subscription, SubscriptionDetails } from './types.ts';

/** The customer's subscriptions with their details (labels, domains): a customer has a few, not thousands. */
export async function loadSubscriptions(): Promise<SubscriptionDetails[]> {
  const list = await api.get<PageOf<Subscription>>(`/subscriptions${query({ limit: 100 })}`);
  return Promise.all(list.items.map((s) => api.get<SubscriptionDetails>(`/subscriptions/${seg(s.id)}`)));
}

export function selectedId(subscriptions: readonly { id: string }[]): string | undefined {
  const wanted = queryOf(here.value).s;
  return subscriptions.find((s) => s.id === wanted)?.id ?? subscriptions[0]?.id;
}

export function subscriptionName(subscription: SubscriptionDetails, index: number): string {
  const m = messages(subscriptionTexts).picker;
  return subscription.labels.length ? subscription.labels.map((l) => l.name).join(', ') : m.unlabelled(index + 1, subscription.id);
}

/** The picker, shown only when there is a choice. */
export function SubscriptionPicker({ subscriptions, selected }: { subscriptions: SubscriptionDetails[]; selected: string }) {
  const m = messages(subscriptionTexts).picker;
  if (subscriptions.length < 2) return null;
  return (
    <div class="picker">
      <SelectField
        id="subscription"
        label={m.label}
        hint={m.hint}
        value={selected}
        options={subscriptions.map((s, i) => ({ value: s.id, label: subscriptionName(s, i) }))}
        onValue={(id) => navigate(`${pathOf(here.value)}${query({ ...queryOf(here.value), s: id })}`)}
      />
    </div>
  );
}
