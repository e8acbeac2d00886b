/** Customers and their subscriptions. */
import { Page } from '../ds/Page.tsx';
import { messages } from '../lib/i18n.ts';
import { ops } from '../messages/ops.ts';

export default function Customers() {
  const m = messages(ops).customers;
  return <Page title={m.title} />;
}
