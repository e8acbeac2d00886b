/**
 * RFC 1939 §6 QUIT: in AUTHORIZATION it just ends; in TRANSACTION it enters UPDATE, removes the
 * messages marked deleted (durably, before +OK) and then ends. If the removal fails nothing is claimed.
 */
import { formatErr, formatOk } from '../../proto/responses.ts';
import { defineCommand } from './define.ts';

const SIGN_OFF = 'Facteur POP3 server signing off';

export default defineCommand({
  name: 'QUIT',
  states: ['authorization', 'transaction'],
  minArgs: 0,
  maxArgs: 0,
  async run(session) {
    const maildrop = session.maildrop;
    if (session.state === 'authorization' || !maildrop) {
      await session.send(formatOk(SIGN_OFF));
      session.close();
      return;
    }
    session.enterUpdate();
    try {
      const result = await maildrop.update();
      session.log.info({ event: 'pop3.update', account: session.account?.id, removed: result.removed }, 'pop3.update');
      await session.send(formatOk(`${SIGN_OFF} (${result.left === 0 ? 'maildrop empty' : `${result.left} messages left`})`));
    } catch (error) {
      session.log.error({ event: 'pop3.update_failed', account: session.account?.id, err: error }, 'pop3.update_failed');
      await session.send(formatErr('Some deleted messages not removed', 'SYS/TEMP'));
    }
    session.close();
  },
});
