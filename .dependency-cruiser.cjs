// The house's layer rules (see docs/decisions.md, "Layers point one way"); test/architecture/layers.test.ts runs them.
/** The only files that may import mysql2: the MySQL adapters of the data and audit ports. */
const MYSQL_ADAPTERS = '^src/db/(mysql|mysql-connection|audit-mysql)[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'src-never-imports-durable',
      comment: 'src/ reaches a Durable Object only through its contract in src/contracts/; only the Worker entry wires bindings to classes.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/index[.]ts$' },
      to: { path: '^durable/' },
    },
    {
      name: 'mysql2-only-in-mysql-adapters',
      comment: 'mysql2 is imported only by the MySQL adapters in src/db/.',
      severity: 'error',
      from: { path: '^(src|durable)/', pathNot: MYSQL_ADAPTERS },
      to: { path: ['^mysql2($|/)', '(^|/)node_modules/mysql2/'] },
    },
    {
      name: 'pure-layers-stay-pure',
      comment: 'src/auth and src/security are pure: no storage, no router, no database.',
      severity: 'error',
      from: { path: '^src/(auth|security)/' },
      to: { path: '^(durable/|src/http/|src/db/)' },
    },
    {
      name: 'objects-know-no-router',
      comment: 'Durable Objects know no router.',
      severity: 'error',
      from: { path: '^durable/' },
      to: { path: '^src/http/' },
    },
  ],
  options: {
    // Type-only imports count: a contract is the only way to name an object's types from src/.
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
  },
};
