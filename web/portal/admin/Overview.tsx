/** The subscription at a glance. */
import { Page } from '../../ds/Page.tsx';
import { messages } from '../../lib/i18n.ts';
import { admin } from '../../messages/admin.ts';

export default function Overview() {
  const m = messages(admin).overview;
  return <Page title={m.title} />;
}
