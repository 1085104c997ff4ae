#!/usr/bin/env node
// `npm run result-scan:eval`: the result scan's false positives on the demo data and on generated benign rows, its recall on
// poisoned data (bin/lib/poisoned-data.mjs and the demo's poisoned tickets), and strings scanned per second. Prints one JSON object.
import { parseArgs } from 'node:util';
import { demoRows, POISONED_TICKET_COUNT, SEED_COUNTS, SEED_COLUMNS } from '../src/db/seed-data.ts';
import { scanValue } from '../src/security/result-scan/index.ts';
import { benignRows } from './lib/benign-rows.mjs';
import { POISONED_DATA } from './lib/poisoned-data.mjs';

const { values } = parseArgs({ options: { benign: { type: 'string', default: '5000' }, seed: { type: 'string', default: '7' } } });
const OPTIONS = { toolNames: ['find_customers', 'get_customer', 'list_customer_orders', 'list_open_tickets', 'support_report', 'sql_select', 'list_tables', 'describe_table'] };

function rate(rows) {
  let flagged = 0;
  let strings = 0;
  const examples = [];
  const started = process.cpuUsage();
  for (const row of rows) {
    const scan = scanValue(row, OPTIONS);
    strings += scan.strings;
    if (scan.flagged) {
      flagged++;
      if (examples.length < 5) examples.push(scan.findings.map((f) => `${f.rule}: ${f.span}`));
    }
  }
  const cpu = process.cpuUsage(started);
  const seconds = (cpu.user + cpu.system) / 1e6;
  return { rows: rows.length, flagged, rate: flagged / rows.length, strings, strings_per_cpu_second: Math.round(strings / seconds), examples };
}

const demo = demoRows();
const generatedTickets = demo.tickets.slice(0, SEED_COUNTS.tickets - POISONED_TICKET_COUNT);
const asObjects = (table, rows) => rows.map((r) => Object.fromEntries(SEED_COLUMNS[table].map((c, i) => [c, r[i]])));
const report = {
  demo: {
    customers: rate(asObjects('customers', demo.customers)),
    orders: rate(asObjects('orders', demo.orders)),
    tickets: rate(asObjects('tickets', generatedTickets)),
    poisoned_tickets: rate(asObjects('tickets', demo.tickets.slice(-POISONED_TICKET_COUNT))),
  },
  generated_benign: rate(benignRows(Number(values.benign), Number(values.seed))),
  poisoned_data: rate(POISONED_DATA.map((text) => ({ text }))),
};
const missed = POISONED_DATA.filter((text) => !scanValue({ text }, OPTIONS).flagged);
process.stdout.write(`${JSON.stringify({ ...report, poisoned_missed: missed }, null, 2)}\n`);
