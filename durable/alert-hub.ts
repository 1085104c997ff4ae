/**
 * The live alert hub (one object, named "default"): an `agents` Agent whose state (the recent
 * alerts, open count) is synchronised to every connected WebSocket client as a `cf_agent_state`
 * message the moment it changes. Alerts are kept in its SQLite (bounded), repeats of an open
 * alert are folded into it by `group`, and an operator acknowledges them through the admin API.
 */
import { Agent, type Connection, type ConnectionContext } from 'agents';
import { eventId } from '../src/audit/event.ts';
import { AlertInputSchema, type AlertHubObject, type AlertHubState, type AlertInput, type AlertView } from '../src/contracts/alert-hub.ts';

/** The hub's table (docs/storage.md is checked against this). */
export const ALERT_HUB_SCHEMA = [
  'CREATE TABLE IF NOT EXISTS alerts (id TEXT PRIMARY KEY, grp TEXT NOT NULL, alert TEXT NOT NULL, count INTEGER NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, ack_by TEXT, ack_at TEXT)',
  'CREATE INDEX IF NOT EXISTS alerts_open_group ON alerts (grp) WHERE ack_at IS NULL',
];
/** Alerts kept; the oldest go first. */
export const ALERT_HUB_MAX = 1000;
/** Alerts in the synchronised state. */
export const ALERT_STATE_MAX = 50;

interface Row {
  id: string;
  alert: string;
  count: number;
  first_seen: string;
  last_seen: string;
  ack_by: string | null;
  ack_at: string | null;
  [key: string]: SqlStorageValue;
}

/** The hub. Connections are read-only: clients receive state, they never set it. */
export class AlertHub extends Agent<Cloudflare.Env, AlertHubState> implements AlertHubObject {
  override initialState: AlertHubState = { alerts: [], open: 0, updated_at: new Date(0).toISOString() };
  #ready = false;

  /** Records an alert (or counts a repeat of an open one with the same group) and pushes the new state. */
  async publish(raw: AlertInput): Promise<AlertView> {
    await this.lifecycle.start();
    const alert = AlertInputSchema.parse(raw);
    const sql = this.#sql();
    const now = new Date().toISOString();
    const open = sql.exec<Row>('SELECT * FROM alerts WHERE grp = ? AND ack_at IS NULL ORDER BY id DESC LIMIT 1', alert.group).toArray()[0];
    let id: string;
    if (open) {
      const previous = JSON.parse(open.alert) as AlertInput;
      // The latest explanation, and the highest severity and score seen in the group.
      const merged: AlertInput = { ...alert, severity: higher(previous.severity, alert.severity), ...(alert.score !== undefined || previous.score !== undefined ? { score: Math.max(alert.score ?? 0, previous.score ?? 0) } : {}) };
      sql.exec('UPDATE alerts SET alert = ?, count = count + 1, last_seen = ? WHERE id = ?', JSON.stringify(merged), alert.time > now ? alert.time : now, open.id);
      id = open.id;
    } else {
      id = eventId(Date.now(), crypto.getRandomValues(new Uint8Array(10)));
      sql.exec('INSERT INTO alerts (id, grp, alert, count, first_seen, last_seen) VALUES (?, ?, ?, 1, ?, ?)', id, alert.group, JSON.stringify(alert), now, now);
      sql.exec('DELETE FROM alerts WHERE id NOT IN (SELECT id FROM alerts ORDER BY id DESC LIMIT ?)', ALERT_HUB_MAX);
    }
    this.#push();
    return this.#get(id) as AlertView;
  }

  /** Recent alerts, most recent first (by when they were opened); `before` is an alert id to page from. */
  async list(options: { limit?: number; before?: string; open?: boolean }): Promise<AlertView[]> {
    await this.lifecycle.start();
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? 50), 1), ALERT_HUB_MAX);
    const rows = this.#sql()
      .exec<Row>(`SELECT * FROM alerts WHERE id < ? ${options.open ? 'AND ack_at IS NULL' : ''} ORDER BY id DESC LIMIT ?`, options.before ?? '~', limit)
      .toArray();
    return rows.map(view);
  }

  /** Acknowledges an alert (once: a second acknowledgement keeps the first); null when there is no such alert. */
  async acknowledge(id: string, by: string, now: number): Promise<AlertView | null> {
    await this.lifecycle.start();
    const sql = this.#sql();
    const changed = sql.exec('UPDATE alerts SET ack_by = ?, ack_at = ? WHERE id = ? AND ack_at IS NULL', by.slice(0, 200), new Date(now).toISOString(), id).rowsWritten;
    const alert = this.#get(id);
    if (changed > 0) this.#push();
    return alert;
  }

  /** Every connection is read-only: state flows from the hub to clients only. */
  override shouldConnectionBeReadonly(_connection: Connection, _ctx: ConnectionContext): boolean {
    return true;
  }

  /** No client may change the state (a read-only connection is refused already; this is the second lock). */
  override validateStateChange(_next: AlertHubState, source: Connection | 'server'): void {
    if (source !== 'server') throw new Error('the alert hub state is read-only');
  }

  #get(id: string): AlertView | null {
    const row = this.#sql().exec<Row>('SELECT * FROM alerts WHERE id = ?', id).toArray()[0];
    return row ? view(row) : null;
  }

  /** Sets the synchronised state: persisted, then broadcast to every connected client at once. */
  #push(): void {
    const sql = this.#sql();
    const alerts = sql.exec<Row>('SELECT * FROM alerts ORDER BY id DESC LIMIT ?', ALERT_STATE_MAX).toArray().map(view);
    const open = sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM alerts WHERE ack_at IS NULL').one().n;
    this.setState({ alerts, open, updated_at: new Date().toISOString() });
  }

  #sql(): SqlStorage {
    const sql = this.ctx.storage.sql;
    if (!this.#ready) {
      for (const statement of ALERT_HUB_SCHEMA) sql.exec(statement);
      this.#ready = true;
    }
    return sql;
  }
}

const SEVERITY_ORDER = ['informational', 'low', 'medium', 'high', 'critical'] as const;

function higher(a: AlertInput['severity'], b: AlertInput['severity']): AlertInput['severity'] {
  return SEVERITY_ORDER.indexOf(a) >= SEVERITY_ORDER.indexOf(b) ? a : b;
}

function view(row: Row): AlertView {
  const alert = JSON.parse(row.alert) as AlertInput;
  return { ...alert, id: row.id, count: row.count, first_seen: row.first_seen, last_seen: row.last_seen, acknowledged: row.ack_by !== null && row.ack_at !== null ? { by: row.ack_by, at: row.ack_at } : null };
}
