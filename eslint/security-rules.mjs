// The project's security invariants as a local ESLint plugin: no string-built SQL, no HTML sinks fed with data, no secret-named value in a log or an audit event.

/** Statements an SQL string starts with (upper case, as this project writes SQL). */
const SQL_START = /^\s*(SELECT\s|INSERT\s+(IGNORE\s+)?INTO\s|UPDATE\s+\S+\s+SET\s|DELETE\s+FROM\s|REPLACE\s+INTO\s|WITH\s+\w+\s+AS\b|(CREATE|DROP|ALTER)\s+(TABLE|INDEX|VIEW|DATABASE|SCHEMA|USER|TRIGGER)\s|SET\s+STATEMENT\s|PRAGMA\s|TRUNCATE\s)/;

/** Escaping functions for identifiers (which cannot be placeholders): their result is fixed. */
const ESCAPERS = new Set(['escapeId', 'escape', 'quoteIdentifier']);

/** String methods whose result is fixed when their receiver and arguments are. */
const PURE_STRING_METHODS = new Set(['toFixed', 'toString', 'toPrecision', 'replace', 'replaceAll', 'trim', 'toUpperCase', 'toLowerCase', 'slice', 'padStart', 'padEnd', 'repeat', 'join', 'concat']);

/**
 * The value of a const binding this identifier refers to, when it is declared once with an
 * initialiser in scope (`const x = ...`); otherwise null.
 */
function constInit(context, node) {
  const scope = context.sourceCode.getScope(node);
  let current = scope;
  while (current) {
    const variable = current.set.get(node.name);
    if (variable) {
      const def = variable.defs[0];
      if (variable.defs.length === 1 && def.type === 'Variable' && def.parent.kind === 'const' && def.node.init) return def.node.init;
      return null;
    }
    current = current.upper;
  }
  return null;
}

/** The TypeScript type checker and node map when the file is linted with type information. */
function typeInfo(context) {
  const services = context.sourceCode.parserServices;
  if (!services?.program || !services.esTreeNodeToTSNodeMap) return null;
  return { checker: services.program.getTypeChecker(), map: services.esTreeNodeToTSNodeMap };
}

/** True when the type of an expression can only be a number, a boolean or one of fixed string literals. */
function hasFixedType(info, node) {
  if (!info) return false;
  const type = info.checker.getTypeAtLocation(info.map.get(node));
  const parts = type.isUnion() ? type.types : [type];
  // ts.TypeFlags: NumberLike 296, BigIntLike 2112, BooleanLike 528, StringLiteral 128, Undefined 32768, Null 65536.
  return parts.every((t) => (t.flags & (296 | 2112 | 528 | 98304)) !== 0 || t.isStringLiteral());
}

/**
 * True when an interpolated or concatenated piece cannot carry data: a literal, a const bound to
 * a literal, a literal choice (`a ? 'x' : 'y'`), or (with types) a number or a string-literal union.
 */
function isFixed(context, node, info, depth = 0) {
  if (depth > 4) return false;
  switch (node.type) {
    case 'Literal':
      return true;
    case 'TemplateLiteral':
      return node.expressions.every((e) => isFixed(context, e, info, depth + 1));
    case 'BinaryExpression':
      return node.operator === '+' ? isFixed(context, node.left, info, depth + 1) && isFixed(context, node.right, info, depth + 1) : hasFixedType(info, node);
    case 'ConditionalExpression':
      return isFixed(context, node.consequent, info, depth + 1) && isFixed(context, node.alternate, info, depth + 1);
    case 'CallExpression': {
      const name = calleeName(node.callee);
      if (ESCAPERS.has(name)) return true;
      if (PURE_STRING_METHODS.has(name) && node.callee.type === 'MemberExpression' && isFixed(context, node.callee.object, info, depth + 1)) {
        return node.arguments.every((a) => isFixed(context, a, info, depth + 1));
      }
      return hasFixedType(info, node);
    }
    case 'Identifier': {
      const init = constInit(context, node);
      if (init && isFixed(context, init, info, depth + 1)) return true;
      return hasFixedType(info, node);
    }
    default:
      return hasFixedType(info, node);
  }
}

/** The pieces of a built string that are not fixed (empty when the string is constant). */
function dataPieces(context, node, info) {
  if (node.type === 'TemplateLiteral') return node.expressions.filter((e) => !isFixed(context, e, info));
  if (node.type === 'BinaryExpression' && node.operator === '+') return [...dataPieces(context, node.left, info), ...dataPieces(context, node.right, info)];
  return isFixed(context, node, info) ? [] : [node];
}

/** The leading static text of a template literal or `+` chain. */
function leadingText(node) {
  if (node.type === 'TemplateLiteral') return node.quasis[0]?.value.cooked ?? '';
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'BinaryExpression' && node.operator === '+') return leadingText(node.left);
  return '';
}

/** The name of a call's callee: `f` for f(), `m` for a.b.m() and a.#m(). */
function calleeName(callee) {
  if (callee.type === 'Identifier') return callee.name;
  if (callee.type === 'MemberExpression' && !callee.computed && (callee.property.type === 'Identifier' || callee.property.type === 'PrivateIdentifier')) return callee.property.name;
  return '';
}

/** The name of a member's object: `sql` for ctx.storage.sql.exec, `#sql` for this.#sql.exec. */
function objectName(callee) {
  if (callee.type !== 'MemberExpression') return '';
  const object = callee.object;
  if (object.type === 'Identifier') return object.name;
  if (object.type === 'MemberExpression' && !object.computed) return object.property.type === 'PrivateIdentifier' ? `#${object.property.name}` : object.property.name;
  return '';
}

/** True for calls that take SQL as their first argument: x.query(), *.sql.exec(), db.select(). */
function isSqlSink(callee) {
  const name = calleeName(callee);
  const object = objectName(callee);
  if (name === 'query') return true;
  if (name === 'exec') return /^#?sql$/i.test(object);
  if (name === 'select') return /db$/i.test(object);
  return false;
}

/** @type {import('eslint').Rule.RuleModule} */
const noStringBuiltSql = {
  meta: {
    type: 'problem',
    docs: { description: 'SQL is a constant with placeholders (`?`) and values go separately: no SQL built from data with `+` or `${}`' },
    schema: [],
    messages: {
      built: 'SQL built from data ({{what}}): write the statement as a constant with `?` placeholders and pass the values separately.',
    },
  },
  create(context) {
    const info = typeInfo(context);
    const reported = new Set();
    const check = (node) => {
      if (reported.has(node)) return;
      const pieces = dataPieces(context, node, info);
      if (pieces.length === 0) return;
      reported.add(node);
      const what = context.sourceCode.getText(pieces[0]).slice(0, 40);
      context.report({ node, messageId: 'built', data: { what } });
    };
    /** A built string, directly or through a const it names. */
    const inspect = (arg) => {
      if (!arg) return;
      if (arg.type === 'TemplateLiteral' || (arg.type === 'BinaryExpression' && arg.operator === '+')) check(arg);
      else if (arg.type === 'Identifier') {
        const init = constInit(context, arg);
        if (init && (init.type === 'TemplateLiteral' || (init.type === 'BinaryExpression' && init.operator === '+'))) check(init);
      } else if (arg.type === 'ObjectExpression') {
        for (const p of arg.properties) if (p.type === 'Property' && !p.computed && p.key.type === 'Identifier' && p.key.name === 'sql') inspect(p.value);
      }
    };
    return {
      CallExpression(node) {
        if (isSqlSink(node.callee)) inspect(node.arguments[0]);
      },
      // `{ sql: ... }` anywhere (query options, sqlTool definitions).
      'Property[key.name="sql"]'(node) {
        if (!node.computed) inspect(node.value);
      },
      // A string that reads as SQL, wherever it is built.
      TemplateLiteral(node) {
        if (node.parent.type !== 'TaggedTemplateExpression' && node.expressions.length > 0 && SQL_START.test(leadingText(node))) check(node);
      },
      'BinaryExpression[operator="+"]'(node) {
        if (node.parent.type === 'BinaryExpression' && node.parent.operator === '+') return;
        if (SQL_START.test(leadingText(node))) check(node);
      },
    };
  },
};

/** The DOM properties and methods that parse HTML. */
const HTML_PROPERTIES = new Set(['innerHTML', 'outerHTML', 'srcdoc']);

/** True for a string written in the source with nothing interpolated. */
function isLiteralString(node) {
  return (node.type === 'Literal' && (typeof node.value === 'string' || node.value === null)) || (node.type === 'TemplateLiteral' && node.expressions.length === 0);
}

/** @type {import('eslint').Rule.RuleModule} */
const noUnsafeHtml = {
  meta: {
    type: 'problem',
    docs: { description: 'no HTML parsing sink (innerHTML, outerHTML, insertAdjacentHTML, document.write) fed with anything but a literal' },
    schema: [],
    messages: { sink: '{{sink}} with data: build nodes with textContent / createElement, or pass a literal.' },
  },
  create(context) {
    return {
      AssignmentExpression(node) {
        const left = node.left;
        if (left.type !== 'MemberExpression' || left.computed || left.property.type !== 'Identifier' || !HTML_PROPERTIES.has(left.property.name)) return;
        if (node.operator === '=' && isLiteralString(node.right)) return;
        context.report({ node, messageId: 'sink', data: { sink: left.property.name } });
      },
      CallExpression(node) {
        const name = calleeName(node.callee);
        if (name === 'insertAdjacentHTML') {
          const html = node.arguments[1];
          if (html && !isLiteralString(html)) context.report({ node, messageId: 'sink', data: { sink: name } });
        } else if ((name === 'write' || name === 'writeln') && objectName(node.callee) === 'document') {
          if (node.arguments.some((a) => !isLiteralString(a))) context.report({ node, messageId: 'sink', data: { sink: `document.${name}` } });
        } else if (name === 'setHTMLUnsafe' || name === 'createContextualFragment') {
          if (node.arguments.some((a) => !isLiteralString(a))) context.report({ node, messageId: 'sink', data: { sink: name } });
        }
      },
    };
  },
};

/** Words that name a credential. */
const SECRET_WORDS = new Set(['token', 'tokens', 'secret', 'secrets', 'password', 'passwords', 'passwd', 'passphrase', 'authorization', 'cookie', 'cookies', 'credential', 'credentials', 'bearer', 'verifier', 'jwt', 'assertion', 'apikey', 'privatekey', 'otp']);
/** "key" and "code" are credentials only in these compounds (alone they are map keys and error codes). */
const KEY_QUALIFIERS = new Set(['api', 'private', 'signing', 'secret', 'hmac', 'encryption', 'admin']);
const CODE_QUALIFIERS = new Set(['auth', 'authorization', 'authz', 'device', 'user', 'otp']);
/** A word after the secret word that makes the name describe the secret rather than hold it. */
const META_SUFFIX = new Set(['id', 'ids', 'name', 'names', 'count', 'type', 'types', 'kind', 'prefix', 'length', 'len', 'expiry', 'expires', 'expired', 'at', 'status', 'scope', 'scopes', 'endpoint', 'url', 'uri', 'method', 'methods', 'hash', 'hashes', 'digest', 'family', 'ttl', 'seconds', 'ms', 'max', 'min', 'reused', 'reuse', 'error', 'errors', 'reason', 'version', 'format', 'present', 'valid', 'supported', 'used', 'lifetime', 'age', 'policy', 'field', 'fields', 'limit', 'rotated', 'revoked', 'issued', 'rejected', 'refused', 'label']);
/** A first word that makes the name a flag or a number about the secret. */
const META_PREFIX = new Set(['has', 'is', 'no', 'num', 'max', 'min', 'count', 'redacted', 'sanitized', 'masked']);

/** Splits camelCase, snake_case, kebab-case and `#private` names into lower-case words. */
export function nameWords(name) {
  return name
    .replace(/^#/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_\-.]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
}

/** True when a name says its value is a credential (`refreshToken`, `client_secret`, `apiKey`; not `token_id`, `hasToken`, `key`). */
export function isSecretName(name) {
  const words = nameWords(name);
  let last = -1;
  words.forEach((w, i) => {
    const previous = words[i - 1] ?? '';
    if (SECRET_WORDS.has(w) || (w === 'key' && KEY_QUALIFIERS.has(previous)) || (w === 'code' && CODE_QUALIFIERS.has(previous))) last = i;
  });
  if (last < 0) return false;
  if (META_PREFIX.has(words[0] ?? '')) return false;
  return !words.slice(last + 1).some((w) => META_SUFFIX.has(w));
}

/** A call that writes a log line or builds an audit event: console.*, logger.*, log(), x.log(), audit*(), newEvent(). */
function isLogSink(callee) {
  const name = calleeName(callee);
  const object = objectName(callee);
  if (object === 'console') return true;
  if (/^(logger|log)$/i.test(object) && /^(log|debug|info|warn|error|trace|fatal)$/.test(name)) return true;
  return /^(log|audit)([A-Z_]|$)/.test(name) || name === 'newEvent';
}

/** Calls whose result no longer is the secret (a digest, a redaction). */
const CLEANSING = /hash|digest|^sha\d+|hmac|redact|sanitiz|mask|fingerprint|length|^(Boolean|Number)$/i;

/** @type {import('eslint').Rule.RuleModule} */
const noSecretInLogs = {
  meta: {
    type: 'problem',
    docs: { description: 'no secret-named value (token, secret, password, API key, authorization, code…) passed to console.*, a logger or an audit event builder' },
    schema: [],
    messages: { secret: '"{{name}}" looks like a credential and goes to {{sink}}: log its id or a digest, never the value.' },
  },
  create(context) {
    const reportName = (node, name, sink) => context.report({ node, messageId: 'secret', data: { name, sink } });
    /** Walks an argument and reports every secret-named value in it. */
    const walk = (node, sink, depth) => {
      if (!node || depth > 8) return;
      switch (node.type) {
        case 'Identifier':
          if (isSecretName(node.name)) reportName(node, node.name, sink);
          return;
        case 'MemberExpression':
          if (!node.computed && (node.property.type === 'Identifier' || node.property.type === 'PrivateIdentifier') && isSecretName(node.property.name)) reportName(node, node.property.name, sink);
          else if (node.computed && node.property.type === 'Literal' && typeof node.property.value === 'string' && isSecretName(node.property.value)) reportName(node, node.property.value, sink);
          return;
        case 'ObjectExpression':
          for (const p of node.properties) {
            if (p.type === 'SpreadElement') walk(p.argument, sink, depth + 1);
            else {
              const key = !p.computed && p.key.type === 'Identifier' ? p.key.name : p.key.type === 'Literal' ? String(p.key.value) : '';
              if (key && isSecretName(key) && p.value.type !== 'Literal') reportName(p, key, sink);
              else walk(p.value, sink, depth + 1);
            }
          }
          return;
        case 'ArrayExpression':
          for (const e of node.elements) walk(e, sink, depth + 1);
          return;
        case 'TemplateLiteral':
          for (const e of node.expressions) walk(e, sink, depth + 1);
          return;
        case 'BinaryExpression':
        case 'LogicalExpression':
          walk(node.left, sink, depth + 1);
          walk(node.right, sink, depth + 1);
          return;
        case 'ConditionalExpression':
          walk(node.consequent, sink, depth + 1);
          walk(node.alternate, sink, depth + 1);
          return;
        case 'SpreadElement':
        case 'AwaitExpression':
        case 'TSAsExpression':
        case 'TSNonNullExpression':
        case 'ChainExpression':
          walk(node.argument ?? node.expression, sink, depth + 1);
          return;
        case 'CallExpression': {
          if (CLEANSING.test(calleeName(node.callee))) return;
          // x.slice(), String(x), JSON.stringify(x): the value still shows.
          if (node.callee.type === 'MemberExpression') walk(node.callee.object, sink, depth + 1);
          for (const a of node.arguments) walk(a, sink, depth + 1);
          return;
        }
        default:
      }
    };
    return {
      CallExpression(node) {
        if (!isLogSink(node.callee)) return;
        const sink = context.sourceCode.getText(node.callee);
        for (const arg of node.arguments) walk(arg, sink, 0);
      },
    };
  },
};

export default {
  meta: { name: 'house-security' },
  rules: { 'no-string-built-sql': noStringBuiltSql, 'no-unsafe-html': noUnsafeHtml, 'no-secret-in-logs': noSecretInLogs },
};
