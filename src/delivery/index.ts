/** Delivery: where mail for a recipient goes (routing), for the MX and the submission server. */

export * from './dsn.ts';
export * from './list-mail.ts';
export * from './queue.ts';
export * from './remote.ts';
export * from './routing.ts';
