/** The demo customer-support schema, in each dialect's DDL. Pure data, shared by the seeders. */

/** Tables in creation order (children after parents). */
export const DEMO_TABLES = ['customers', 'orders', 'tickets'] as const;

/** MySQL/MariaDB DDL, one statement per entry (Hyperdrive and mysql2 run one at a time). */
export const MYSQL_DDL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS customers (
    id INT PRIMARY KEY,
    name VARCHAR(120) NOT NULL,
    email VARCHAR(190) NOT NULL UNIQUE,
    company VARCHAR(120) NOT NULL,
    country CHAR(2) NOT NULL,
    tier VARCHAR(16) NOT NULL,
    created_at DATETIME NOT NULL,
    INDEX customers_name (name)
  )`,
  `CREATE TABLE IF NOT EXISTS orders (
    id INT PRIMARY KEY,
    customer_id INT NOT NULL,
    status VARCHAR(16) NOT NULL,
    total_cents INT NOT NULL,
    currency CHAR(3) NOT NULL,
    created_at DATETIME NOT NULL,
    INDEX orders_customer (customer_id),
    CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)
  )`,
  `CREATE TABLE IF NOT EXISTS tickets (
    id INT PRIMARY KEY,
    customer_id INT NOT NULL,
    order_id INT NULL,
    subject VARCHAR(200) NOT NULL,
    status VARCHAR(16) NOT NULL,
    priority VARCHAR(16) NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    INDEX tickets_customer (customer_id),
    INDEX tickets_status (status, priority),
    CONSTRAINT tickets_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id),
    CONSTRAINT tickets_order_fk FOREIGN KEY (order_id) REFERENCES orders (id)
  )`,
];

/** SQLite DDL for the embedded database (dates are 'YYYY-MM-DD HH:MM:SS' text, as MySQL prints them). */
export const SQLITE_DDL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    company TEXT NOT NULL,
    country TEXT NOT NULL,
    tier TEXT NOT NULL,
    created_at TEXT NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS customers_name ON customers (name)`,
  `CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL,
    total_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    created_at TEXT NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer_id)`,
  `CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    order_id INTEGER REFERENCES orders (id),
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS tickets_customer ON tickets (customer_id)`,
  `CREATE INDEX IF NOT EXISTS tickets_status ON tickets (status, priority)`,
];

/**
 * The audit table, in its own database (default `mcp_audit`) so the read-only tool user, which
 * can read the whole demo database, never sees it. Written only by the audit writer user.
 */
export const MYSQL_AUDIT_DDL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS audit_events (
    id CHAR(26) NOT NULL PRIMARY KEY,
    seq BIGINT NOT NULL AUTO_INCREMENT,
    delivered_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    time DATETIME(3) NOT NULL,
    type VARCHAR(40) NOT NULL,
    outcome VARCHAR(10) NOT NULL,
    user_id VARCHAR(200) NULL,
    agent_id VARCHAR(200) NULL,
    key_id VARCHAR(64) NULL,
    client_id VARCHAR(300) NULL,
    grant_id VARCHAR(64) NULL,
    session_id VARCHAR(64) NULL,
    tool VARCHAR(100) NULL,
    event TEXT NOT NULL,
    UNIQUE KEY audit_seq (seq),
    INDEX audit_time (time),
    INDEX audit_user (user_id, time),
    INDEX audit_agent (agent_id, time),
    INDEX audit_tool (tool, time)
  )`,
];
