/** SMTP: pure protocol pieces (proto/) and the listeners with their policies (server/). */
export { formatReceived } from './proto/received.ts';
export { REPLIES, REPLY_OF_KIND, type SmtpReply } from './proto/replies.ts';
export { type SmtpListeners, startSmtp, type TlsCredentials } from './server/index.ts';
