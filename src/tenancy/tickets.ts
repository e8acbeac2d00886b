/**
 * Support tickets (R-T7): opened by a customer admin from the portal (for unblock and restore
 * requests among others, §9, §13), answered by the operator, closed by either side.
 */
import type { Principal } from '../auth/principal.ts';
import type { AppContext } from '../context.ts';
import { AppError, invalid, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { TicketMessagesTable, TicketsTable } from '../store/index.ts';
import { ensureFound, requireText, type Scope } from './common.ts';
import { getCustomerRow } from './customers.ts';

export const TICKET_CATEGORIES = ['general', 'unblock', 'restore', 'billing', 'technical'] as const;
const MAX_BODY = 20_000;

export interface TicketView {
  id: string;
  customerId: string;
  subject: string;
  category: TicketsTable['category'];
  status: TicketsTable['status'];
  openedBy: string;
  createdAt: string;
  updatedAt: string;
  messages?: { id: string; authorRole: string; authorId: string; body: string; createdAt: string }[];
}

function ticketView(row: TicketsTable, messages?: TicketMessagesTable[]): TicketView {
  return {
    id: row.id,
    customerId: row.customer_id,
    subject: row.subject,
    category: row.category,
    status: row.status,
    openedBy: row.opened_by,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    ...(messages
      ? {
          messages: messages.map((m) => ({
            id: m.id,
            authorRole: m.author_role,
            authorId: m.author_id,
            body: m.body,
            createdAt: new Date(m.created_at).toISOString(),
          })),
        }
      : {}),
  };
}

function authorRole(actor: Principal): TicketMessagesTable['author_role'] {
  if (actor.role === 'user')
    throw new AppError(
      'forbidden',
      'forbidden',
      text('Tickets are opened by the customer admins', 'Les tickets sont ouverts par les administrateurs du client'),
    );
  return actor.role;
}

export async function openTicket(
  ctx: AppContext,
  actor: Principal,
  customerId: string,
  input: { subject?: string; category?: string; body?: string },
): Promise<TicketView> {
  const role = authorRole(actor);
  await getCustomerRow(ctx, actor.role === 'operator' ? null : actor.customerId, customerId);
  const category = input.category ?? 'general';
  if (!(TICKET_CATEGORIES as readonly string[]).includes(category)) {
    throw invalid(
      'invalid-category',
      'category',
      `The category is one of ${TICKET_CATEGORIES.join(', ')}`,
      `La catégorie est l'une de ${TICKET_CATEGORIES.join(', ')}`,
    );
  }
  const now = ctx.clock.now();
  const ticket: TicketsTable = {
    customer_id: customerId,
    id: newId('tkt'),
    subject: requireText(input.subject, 'subject', 200, text('The subject', "L'objet")),
    category: category as TicketsTable['category'],
    status: 'open',
    opened_by: actor.id,
    created_at: now,
    updated_at: now,
  };
  const message: TicketMessagesTable = {
    customer_id: customerId,
    id: newId('tkm'),
    ticket_id: ticket.id,
    author_role: role,
    author_id: actor.id,
    body: requireText(input.body, 'body', MAX_BODY, text('The message', 'Le message')),
    created_at: now,
  };
  await ctx.db.transaction().execute(async (trx) => {
    await trx.insertInto('tickets').values(ticket).execute();
    await trx.insertInto('ticket_messages').values(message).execute();
  });
  ctx.log.info({ event: 'ticket.opened', ticket: ticket.id, customer: customerId, category }, 'ticket.opened');
  return ticketView(ticket, [message]);
}

async function getTicketRow(ctx: AppContext, scope: Scope, id: string): Promise<TicketsTable> {
  let query = ctx.db.selectFrom('tickets').selectAll().where('id', '=', id);
  if (scope !== null) query = query.where('customer_id', '=', scope);
  return ensureFound(await query.executeTakeFirst(), text('No such ticket', 'Ticket introuvable'));
}

export async function getTicket(ctx: AppContext, scope: Scope, id: string): Promise<TicketView> {
  const row = await getTicketRow(ctx, scope, id);
  const messages = await ctx.db.selectFrom('ticket_messages').selectAll().where('ticket_id', '=', id).orderBy('created_at').orderBy('id').execute();
  return ticketView(row, messages);
}

export async function listTickets(ctx: AppContext, scope: Scope, filter: { status?: string; customerId?: string; limit: number }): Promise<TicketView[]> {
  let query = ctx.db.selectFrom('tickets').selectAll().orderBy('updated_at', 'desc').limit(filter.limit);
  if (scope !== null) query = query.where('customer_id', '=', scope);
  if (filter.customerId) query = query.where('customer_id', '=', filter.customerId);
  if (filter.status) query = query.where('status', '=', filter.status as TicketsTable['status']);
  return (await query.execute()).map((row) => ticketView(row));
}

/** Adds a reply; the operator's reply marks the ticket answered, the customer's reopens it. */
export async function replyToTicket(ctx: AppContext, actor: Principal, scope: Scope, id: string, body: string | undefined): Promise<TicketView> {
  const role = authorRole(actor);
  const row = await getTicketRow(ctx, scope, id);
  if (row.status === 'closed')
    throw new AppError('conflict', 'ticket-closed', text('The ticket is closed: open a new one', 'Le ticket est fermé : ouvrez-en un nouveau'));
  const now = ctx.clock.now();
  const message: TicketMessagesTable = {
    customer_id: row.customer_id,
    id: newId('tkm'),
    ticket_id: id,
    author_role: role,
    author_id: actor.id,
    body: requireText(body, 'body', MAX_BODY, text('The message', 'Le message')),
    created_at: now,
  };
  await ctx.db.transaction().execute(async (trx) => {
    await trx.insertInto('ticket_messages').values(message).execute();
    await trx
      .updateTable('tickets')
      .set({ status: role === 'operator' ? 'answered' : 'open', updated_at: now })
      .where('id', '=', id)
      .execute();
  });
  return getTicket(ctx, scope, id);
}

export async function closeTicket(ctx: AppContext, actor: Principal, scope: Scope, id: string): Promise<TicketView> {
  authorRole(actor);
  const row = await getTicketRow(ctx, scope, id);
  if (row.status !== 'closed') await ctx.db.updateTable('tickets').set({ status: 'closed', updated_at: ctx.clock.now() }).where('id', '=', id).execute();
  return getTicket(ctx, scope, id);
}
