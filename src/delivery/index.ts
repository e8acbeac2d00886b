/** Delivery: where mail for a recipient goes (routing), for the MX and the submission server. */
export * from './routing.ts';
