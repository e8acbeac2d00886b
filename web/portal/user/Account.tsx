/** The user's own account. */
import { Page } from '../../ds/Page.tsx';
import { messages } from '../../lib/i18n.ts';
import { user } from '../../messages/user.ts';

export default function Account() {
  const m = messages(user).account;
  return <Page title={m.title} />;
}
