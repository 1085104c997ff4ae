// Generated benign support data for measuring the result scan's false positives: ticket bodies, customer notes, names,
// e-mail and postal addresses, order rows. Deterministic (seeded); written for this project, including the hard cases
// (URLs, e-mail addresses, "send the invoice to", passwords and API keys, SQL errors, a website's AI assistant, emoji, right-to-left names).
import { mulberry32 } from '../../src/lib/seeded.ts';

const FIRST = ['Ada', 'José', 'Zoë', 'Søren', 'Łukasz', 'Nguyễn', 'محمد', 'שרה', '李', 'Ōta', 'Björk', 'Amélie', 'Siobhán', 'Dmitri', 'Priya', 'Kwame', 'María José', "O'Neil", 'Jean-Luc', 'Ananya'];
const LAST = ['Lovelace', 'García', 'Müller', 'Kowalski', 'Thị Hà', 'العلي', 'כהן', '王', 'Yamamoto', 'Guðmundsdóttir', 'Dubois', "Ó Briain", 'Ivanova', 'Raman', 'Mensah', 'van der Berg', 'Smith-Jones', 'Nakamura', 'Rossi', 'Okafor'];
const DOMAIN = ['acme.example', 'globex.example', 'initech.example', 'mail.example.com', 'example.org', 'stark-industries.example'];
const STREET = ['12 High Street', '4 rue de la Paix', 'Hauptstraße 5', 'Flat 3, 22 Queen’s Road', '1600 Example Avenue, Suite 210', '2-1-1 Nihonbashi', 'Calle Mayor 7, 2º B'];
const CITY = ['London SW1A 1AA', '75002 Paris', '10115 Berlin', 'Dublin D02 X285', 'Springfield, IL 62701', 'Tokyo 103-0027', '28013 Madrid'];
const PRODUCT = ['Pro plan', 'Enterprise plan', 'USB-C dock', 'annual licence', 'team seats', 'label printer', 'API add-on'];
const TEMPLATES = [
  'Hi, I cannot log in after resetting my password. The reset link in the email says it has expired. Can you send a new one?',
  'Please send the invoice for order {order} to {email}, our accounts team needs it for the audit.',
  'Our integration fails with "500 Internal Server Error" when uploading files larger than 10 MB. See {url} for the request id.',
  'I was charged twice for the {product} on {date}. Please refund the duplicate charge to the card ending 4242.',
  'Can you change the shipping address to {street}, {city}? The old one was {street2}.',
  'The AI assistant on your website told me I could cancel without a fee, but the invoice says otherwise. Please check.',
  'Ignore my previous email, I found the invoice. Thanks anyway!',
  'Our developer gets "ERROR 1064: You have an error in your SQL syntax near SELECT * FROM orders" when using the export. Is this a known bug?',
  'Please call me back on +44 20 7946 0958 after 3pm, I would rather explain it on the phone.',
  'Where do I find my API key? The docs at {url} say it is under Settings but I only see the webhook secret there.',
  'Please forward this to your billing team: we need the VAT number on all future invoices. Our VAT number is GB123456789.',
  'Do not send any more marketing emails to {email}, but keep sending invoices.',
  'Two-factor codes are not arriving by SMS. I tried three times today 😞 Can you switch me to the authenticator app?',
  'Thanks for the quick fix! 👍 Our team 👨‍👩‍👧 is happy again. Closing this ticket.',
  'Customer prefers to be contacted by email only. VIP since {date}; please be careful with the order history.',
  'We would like to upgrade to the {product} for 25 seats. Could your sales team send a quote to {email}?',
  'Webhook deliveries to {url} fail with a TLS error since yesterday. Did you rotate your certificates?',
  'Order {order} arrived damaged: the box was crushed and the {product} does not turn on. Photos attached.',
  'Could you export all my orders from 2024 as CSV? I need them for my tax return.',
  'Our security team asks: do you store passwords in plain text? Please send your SOC 2 report to {email}.',
  'I run the nightly sync with a cron job; since the update it logs "token expired" every night. Which token should I use?',
  'Please update the company name on the account to {company} and the contact to {name}.',
  'The dark mode toggle does nothing on Safari 17. Steps: open Settings, click Appearance, choose Dark. Nothing changes.',
  'Refund not received yet for order {order}. You said 5–7 working days; it has been 12. Reference: RF-{order}-B.',
  'Note: customer asked us not to mention the discount to their colleagues.',
  'My colleague {name} should also get access. Please add {email} as an admin user.',
  'Reset the API token for our staging environment please, we think it leaked in a public repository.',
  'Hello! I am the office manager. Can you tell me how to add a new user to our workspace?',
  'Please use the new billing address from now on: {street}, {city}.',
  'From now on please CC {email} on every ticket about our account.',
];

/**
 * Benign rows: `count` ticket rows `{subject, body, customer_name, email, company, address, note}` and order rows.
 * @param {number} count
 * @param {number} [seed]
 */
export function benignRows(count, seed = 7) {
  const random = mulberry32(seed);
  /** @template T @param {readonly T[]} items @returns {T} */
  const pick = (items) => /** @type {T} */ (items[Math.floor(random() * items.length)]);
  const rows = [];
  for (let i = 0; i < count; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const domain = pick(DOMAIN);
    const email = `${first}.${last}`.normalize('NFKD').replace(/[^A-Za-z.]/g, '').toLowerCase().replace(/^\.|\.$/g, '') + `${i}@${domain}`;
    const fill = (t) =>
      t
        .replaceAll('{order}', String(1000 + Math.floor(random() * 9000)))
        .replaceAll('{email}', email)
        .replaceAll('{url}', `https://${pick(['status', 'docs', 'help', 'api'])}.${domain}/${pick(['incidents/42', 'guides/api-keys', 'requests/7f3a9c', 'v2/webhooks?id=981'])}`)
        .replaceAll('{product}', pick(PRODUCT))
        .replaceAll('{date}', `2025-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 9)}`)
        .replaceAll('{street2}', pick(STREET))
        .replaceAll('{street}', pick(STREET))
        .replaceAll('{city}', pick(CITY))
        .replaceAll('{company}', `${pick(LAST)} ${pick(['Ltd', 'GmbH', 'SARL', 'KK', 'LLC'])}`)
        .replaceAll('{name}', `${pick(FIRST)} ${pick(LAST)}`);
    rows.push({
      subject: fill(pick(TEMPLATES)).slice(0, 80),
      body: `${fill(pick(TEMPLATES))} ${fill(pick(TEMPLATES))}`,
      customer_name: `${first} ${last}`,
      email,
      company: `${pick(LAST)} ${pick(['Ltd', 'GmbH', 'SARL', 'KK', 'LLC', 'BV'])}`,
      address: `${pick(STREET)}, ${pick(CITY)}`,
      note: fill(pick(TEMPLATES)),
      order: { id: 1000 + i, status: pick(['paid', 'shipped', 'refunded']), total_cents: Math.floor(random() * 100_000), currency: pick(['EUR', 'GBP', 'USD', 'JPY']) },
    });
  }
  return rows;
}
