/** Deterministic demo rows (customers, orders, tickets) for both databases. Pure: same rows every run. */
import { mulberry32 } from '../lib/seeded.ts';
import { poisonedTickets } from './poisoned-rows.ts';

/** Generated tickets; the poisoned ones (src/db/poisoned-rows.ts) follow them. */
const GENERATED_TICKETS = 1200;
/** Poisoned tickets appended after the generated ones. */
export const POISONED_TICKET_COUNT = poisonedTickets(0).length;

/** Row counts of the demo data set. */
export const SEED_COUNTS = { customers: 600, orders: 2400, tickets: GENERATED_TICKETS + POISONED_TICKET_COUNT } as const;

/** A customer row in column order. */
export type CustomerRow = [id: number, name: string, email: string, company: string, country: string, tier: string, createdAt: string];
/** An order row in column order. */
export type OrderRow = [id: number, customerId: number, status: string, totalCents: number, currency: string, createdAt: string];
/** A ticket row in column order. */
export type TicketRow = [id: number, customerId: number, orderId: number | null, subject: string, status: string, priority: string, createdAt: string, updatedAt: string];

/** Column names per table, matching the row tuples. */
export const SEED_COLUMNS = {
  customers: ['id', 'name', 'email', 'company', 'country', 'tier', 'created_at'],
  orders: ['id', 'customer_id', 'status', 'total_cents', 'currency', 'created_at'],
  tickets: ['id', 'customer_id', 'order_id', 'subject', 'status', 'priority', 'created_at', 'updated_at'],
} as const;

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Margaret', 'Linus', 'Radia', 'Donald', 'Frances', 'John', 'Katherine', 'Tim', 'Hedy', 'Dennis', 'Sophie', 'Niklaus', 'Joan', 'Vint'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Thompson', 'Hamilton', 'Torvalds', 'Perlman', 'Knuth', 'Allen', 'McCarthy', 'Johnson', 'Berners-Lee', 'Lamarr', 'Ritchie', 'Wilson', 'Wirth', 'Clarke', 'Cerf'];
const COMPANY = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Tyrell', 'Soylent', 'Cyberdyne', 'Aperture', 'Vandelay'];
const SUFFIX = ['Ltd', 'Inc', 'GmbH', 'SA', 'BV', 'KK'];
const COUNTRY = ['GB', 'US', 'DE', 'FR', 'NL', 'JP', 'BR', 'IN', 'CA', 'AU'];
const TIER = ['free', 'free', 'free', 'pro', 'pro', 'enterprise'];
const ORDER_STATUS = ['paid', 'paid', 'paid', 'shipped', 'shipped', 'pending', 'refunded', 'cancelled'];
const CURRENCY = ['GBP', 'USD', 'EUR'];
const TICKET_STATUS = ['open', 'open', 'pending', 'solved', 'closed', 'closed'];
const PRIORITY = ['low', 'normal', 'normal', 'normal', 'high', 'urgent'];
const SUBJECT = [
  'Cannot log in after password reset', 'Invoice shows the wrong VAT number', 'Order arrived damaged',
  'Refund not received', 'How do I export my data?', 'API returns 500 on large uploads',
  'Upgrade to enterprise plan', 'Shipping address change', 'Duplicate charge on card',
  'Feature request: dark mode', 'Two-factor codes not arriving', 'Cancel my subscription',
];


const BASE = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;

function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** The whole demo data set, generated from a fixed seed. */
export function demoRows(): { customers: CustomerRow[]; orders: OrderRow[]; tickets: TicketRow[] } {
  const random = mulberry32(20261125);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const customers: CustomerRow[] = [];
  const created: number[] = [];
  for (let id = 1; id <= SEED_COUNTS.customers; id++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const company = `${pick(COMPANY)} ${pick(SUFFIX)}`;
    const at = BASE + Math.floor(random() * 600) * DAY + Math.floor(random() * DAY);
    created.push(at);
    const email = `${first}.${last}.${id}@${company.split(' ')[0]}.example`.toLowerCase();
    customers.push([id, `${first} ${last}`, email, company, pick(COUNTRY), pick(TIER), stamp(at)]);
  }
  const orders: OrderRow[] = [];
  const orderOwner: number[] = [];
  for (let id = 1; id <= SEED_COUNTS.orders; id++) {
    const customer = 1 + Math.floor(random() * SEED_COUNTS.customers);
    const at = (created[customer - 1] as number) + Math.floor(random() * 120) * DAY;
    orderOwner.push(customer);
    orders.push([id, customer, pick(ORDER_STATUS), 500 + Math.floor(random() * 200_000), pick(CURRENCY), stamp(at)]);
  }
  const tickets: TicketRow[] = [];
  for (let id = 1; id <= GENERATED_TICKETS; id++) {
    const withOrder = random() < 0.6;
    const orderId = withOrder ? 1 + Math.floor(random() * SEED_COUNTS.orders) : null;
    const customer = orderId === null ? 1 + Math.floor(random() * SEED_COUNTS.customers) : (orderOwner[orderId - 1] as number);
    const at = (created[customer - 1] as number) + Math.floor(random() * 200) * DAY;
    const updated = at + Math.floor(random() * 10) * DAY;
    tickets.push([id, customer, orderId, pick(SUBJECT), pick(TICKET_STATUS), pick(PRIORITY), stamp(at), stamp(updated)]);
  }
  // After the generated rows, so those (and the random sequence) stay as they were.
  tickets.push(...poisonedTickets(GENERATED_TICKETS + 1));
  return { customers, orders, tickets };
}
