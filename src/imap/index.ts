/** IMAP4rev1 (issue 4): pure protocol pieces (proto/) and the server over the mailstore (server/). */
export { type ImapListeners, startImap } from './server/index.ts';
