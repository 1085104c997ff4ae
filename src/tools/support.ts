/** Tools over the demo customer-support database (customers, orders, tickets). */
import { z } from 'zod';
import { handlerTool, json, sqlTool, type CatalogTool } from '../mcp/catalog.ts';
import { ToolError } from '../errors.ts';

const id = z.number().int().positive().max(2_147_483_647);
const limit = z.number().int().min(1).max(100).default(20).describe('Most rows to return (1-100, default 20).');
const ORDER_STATUS = ['pending', 'paid', 'shipped', 'refunded', 'cancelled'] as const;
const PRIORITY = ['low', 'normal', 'high', 'urgent'] as const;
const PRIORITY_RANK = "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END";

/** LIKE pattern for "contains", with the pattern characters of the input escaped by '!'. */
function contains(text: string): string {
  return `%${text.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

const findCustomers = sqlTool({
  name: 'find_customers',
  title: 'Find customers',
  description: 'Search customers whose name, email or company contains the given text. Returns id, name, email, company, country and plan tier.',
  input: z.object({
    query: z.string().trim().min(1).max(100).describe('Text to look for in name, email or company (case-insensitive).'),
    limit,
  }),
  scope: 'support:read',
  sql: "SELECT id, name, email, company, country, tier FROM customers WHERE LOWER(name) LIKE LOWER(?) ESCAPE '!' OR LOWER(email) LIKE LOWER(?) ESCAPE '!' OR LOWER(company) LIKE LOWER(?) ESCAPE '!' ORDER BY id LIMIT ?",
  params: ({ query, limit }) => [contains(query), contains(query), contains(query), limit],
});

const getCustomer = sqlTool({
  name: 'get_customer',
  title: 'Get a customer',
  description: 'One customer by id, with their number of orders, lifetime spend in cents and number of open tickets.',
  input: z.object({ customer_id: id.describe('The customer id.') }),
  scope: 'support:read',
  sql: `SELECT c.id, c.name, c.email, c.company, c.country, c.tier, c.created_at,
    (SELECT COUNT(*) FROM orders o WHERE o.customer_id = c.id) AS order_count,
    (SELECT COALESCE(SUM(o.total_cents), 0) FROM orders o WHERE o.customer_id = c.id AND o.status IN ('paid', 'shipped')) AS spend_cents,
    (SELECT COUNT(*) FROM tickets t WHERE t.customer_id = c.id AND t.status IN ('open', 'pending')) AS open_tickets
    FROM customers c WHERE c.id = ?`,
  params: ({ customer_id }) => [customer_id],
  one: 'no customer with that id',
});

const listCustomerOrders = sqlTool({
  name: 'list_customer_orders',
  title: "List a customer's orders",
  description: "A customer's orders, newest first, optionally only those with one status.",
  input: z.object({
    customer_id: id.describe('The customer id.'),
    status: z.enum(ORDER_STATUS).optional().describe('Only orders with this status.'),
    limit,
  }),
  scope: 'support:read',
  sql: 'SELECT id, status, total_cents, currency, created_at FROM orders WHERE customer_id = ? AND (? IS NULL OR status = ?) ORDER BY created_at DESC, id DESC LIMIT ?',
  params: ({ customer_id, status, limit }) => [customer_id, status ?? null, status ?? null, limit],
});

const listOpenTickets = sqlTool({
  name: 'list_open_tickets',
  title: 'List open tickets',
  description: 'Open and pending support tickets, most urgent and oldest first, optionally for one priority or one customer.',
  input: z.object({
    priority: z.enum(PRIORITY).optional().describe('Only tickets with this priority.'),
    customer_id: id.optional().describe('Only tickets of this customer.'),
    limit,
  }),
  scope: 'support:read',
  sql: `SELECT t.id, t.subject, t.status, t.priority, t.customer_id, c.name AS customer_name, t.order_id, t.created_at
    FROM tickets t JOIN customers c ON c.id = t.customer_id
    WHERE t.status IN ('open', 'pending') AND (? IS NULL OR t.priority = ?) AND (? IS NULL OR t.customer_id = ?)
    ORDER BY ${PRIORITY_RANK.replaceAll('priority', 't.priority')}, t.created_at, t.id LIMIT ?`,
  params: ({ priority, customer_id, limit }) => [priority ?? null, priority ?? null, customer_id ?? null, customer_id ?? null, limit],
});

const supportReport = handlerTool({
  name: 'support_report',
  title: 'Support report',
  description: 'A summary of the support desk: tickets by status and priority, orders by status, and paid revenue by currency. Reports progress while it runs.',
  input: z.object({}),
  scope: 'support:read',
  async handle(_args, ctx) {
    const limits = { maxRows: 100, timeoutMs: ctx.config.SQL_TIMEOUT_MS };
    const steps = [
      ['tickets', 'SELECT status, priority, COUNT(*) AS n FROM tickets GROUP BY status, priority ORDER BY status, priority'],
      ['orders', 'SELECT status, COUNT(*) AS n FROM orders GROUP BY status ORDER BY status'],
      ['revenue', "SELECT currency, SUM(total_cents) AS total_cents FROM orders WHERE status IN ('paid', 'shipped') GROUP BY currency ORDER BY currency"],
    ] as const;
    const report: Record<string, unknown> = {};
    for (const [index, [name, sql]] of steps.entries()) {
      if (ctx.signal.aborted) throw new ToolError('invalid_arguments', 'cancelled by the client');
      await ctx.progress(index, steps.length, `reading ${name}`);
      report[name] = (await ctx.db.select(sql, [], limits)).rows;
      await ctx.log('info', { step: name, done: index + 1, of: steps.length });
    }
    await ctx.progress(steps.length, steps.length, 'done');
    return json(report);
  },
});

/** The demo database's tools. */
export const supportTools: readonly CatalogTool[] = [findCustomers, getCustomer, listCustomerOrders, listOpenTickets, supportReport];
