/** RFC 2595 §4 STLS: TLS negotiation begins right after +OK; anything pipelined behind STLS is dropped. */
import { formatErr, formatOk } from '../../proto/responses.ts';
import { defineCommand } from './define.ts';

export default defineCommand({
  name: 'STLS',
  states: ['authorization'],
  minArgs: 0,
  maxArgs: 0,
  async run(session) {
    if (session.secure) return session.send(formatErr('Command not permitted when TLS active'));
    await session.send(formatOk('Begin TLS negotiation'));
    session.requestUpgrade();
  },
});
