/**
 * JMAP (RFC 8620 core, RFC 8621 mail) over the mailstore: the webmail's protocol, open to any client.
 * http.ts: session resource, API endpoint, download; api.ts: requests, result references, errors;
 * mailbox.ts, email.ts, email-query.ts: the mail methods; state.ts: states and /changes from MODSEQs.
 */
export { registerJmap } from './http.ts';
