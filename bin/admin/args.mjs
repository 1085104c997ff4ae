// Option parsing and validation for mcp-admin: the command line, durations, rates, counts and times.
import { DAY, formatSeconds } from './format.mjs';
import { usage } from './http.mjs';

const UNIT_SECONDS = { s: 1, sec: 1, second: 1, m: 60, min: 60, minute: 60, h: 3600, hr: 3600, hour: 3600, d: DAY, day: DAY };

/** An own property only (so `--constructor` or `5toString` is not mistaken for a known name). */
export const own = (object, key) => (Object.hasOwn(object, key) ? object[key] : undefined);

/**
 * Splits argv into positionals and options (`--name value`, `--name=value`), checked against every known option.
 * @param {string[]} argv
 * @param {Record<string, string>} known every option's kind ('string', 'boolean' or 'multiple'), by name
 * @param {(positionals: string[]) => void} onPositional called after each positional, with those read so far
 */
export function parseArgv(argv, known, onPositional) {
  const positionals = [];
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (token === '-h') {
      options.help = true;
      continue;
    }
    if (!token.startsWith('--')) {
      if (token.startsWith('-') && token.length > 1) throw usage(`unknown option '${token}'`);
      positionals.push(token);
      onPositional(positionals);
      continue;
    }
    const eq = token.indexOf('=');
    const name = token.slice(2, eq === -1 ? undefined : eq);
    const kind = own(known, name);
    if (!kind) throw usage(`unknown option '--${name}'`);
    if (kind === 'boolean') {
      if (eq !== -1) throw usage(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    let value = eq === -1 ? argv[i + 1] : token.slice(eq + 1);
    if (eq === -1) {
      if (value === undefined || (value.startsWith('--') && value.length > 2)) throw usage(`--${name} needs a value`);
      i++;
    }
    value = value.trim();
    if (value === '') throw usage(`--${name} needs a value`);
    if (kind === 'multiple') (options[name] ??= []).push(value);
    else if (name in options) throw usage(`--${name} is given twice`);
    else options[name] = value;
  }
  return { positionals, options };
}

/** Seconds from `90m`, `12h`, `30d`, `3600s`, checked against [min, max]. */
export function parseDuration(value, option, min, max) {
  const match = /^(\d{1,9})\s*([a-z]+)$/.exec(value.toLowerCase());
  const unit = match ? own(UNIT_SECONDS, match[2]) : undefined;
  if (!match || !unit) throw usage(`--${option}: '${value}' is not a duration; use a number and a unit: 90m, 12h, 30d or 3600s`);
  const seconds = Number(match[1]) * unit;
  if (seconds < min || seconds > max) throw usage(`--${option}: '${value}' is out of range (${formatSeconds(min)} to ${formatSeconds(max)})`);
  return seconds;
}

/** `{ requests, per_seconds }` from `60/min`, `10/s`, `1000/h`, `5/10s` or `100/3600`. */
export function parseRate(value, option) {
  const match = /^(\d{1,9})\/(\d{1,9})?([a-z]+)?$/.exec(value.toLowerCase());
  const unit = match?.[3] === undefined ? 1 : own(UNIT_SECONDS, match[3]);
  if (!match || !unit || (match[2] === undefined && match[3] === undefined)) {
    throw usage(`--${option}: '${value}' is not a rate; use REQUESTS/PERIOD: 60/min, 10/s, 1000/h or N/SECONDS`);
  }
  const requests = Number(match[1]);
  const perSeconds = Number(match[2] ?? 1) * unit;
  if (requests < 1 || requests > 1_000_000) throw usage(`--${option}: '${value}': requests must be 1 to 1000000`);
  if (perSeconds < 1 || perSeconds > DAY) throw usage(`--${option}: '${value}': the period must be 1s to 1d`);
  return { requests, per_seconds: perSeconds };
}

/** A whole number from an option, checked against [min, max]. */
export function parseCount(value, option, min, max) {
  if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) throw usage(`--${option}: '${value}' must be a whole number from ${min} to ${max}`);
  return Number(value);
}

/** Milliseconds since the epoch from an ISO time with Z or an offset, a date (midnight UTC), or a duration ago (`30m`). */
export function parseTime(value, option, now) {
  if (/^\d+\s*[a-z]+$/i.test(value)) return now - parseDuration(value, option, 0, 36_500 * DAY) * 1000;
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?)?$/i.exec(value);
  if (!m) throw usage(`--${option}: '${value}' is not a time; use an ISO time (2026-11-25T10:00:00Z), a date (2026-11-25, midnight UTC) or a duration ago (30m, 1h, 2d)`);
  const [, y, mo, d, h = '00', mi = '00', sec = '00', , zone] = m;
  if (m[4] !== undefined && zone === undefined) throw usage(`--${option}: '${value}' has no time zone; add Z (UTC) or an offset such as +01:00`);
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  const valid = day.getUTCFullYear() === Number(y) && day.getUTCMonth() === Number(mo) - 1 && day.getUTCDate() === Number(d) && Number(h) < 24 && Number(mi) < 60 && Number(sec) < 60;
  const offset = !zone || zone.toUpperCase() === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${sec}${(m[7] ?? '').slice(0, 4)}${offset}`);
  if (!valid || !Number.isFinite(ms) || Math.abs(Number(zone?.slice(1, 3) ?? 0)) > 14) throw usage(`--${option}: '${value}' is not a valid date and time`);
  return ms;
}
