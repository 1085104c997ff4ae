// The house rules that a type checker cannot see, as a local ESLint plugin.

/** Paths of this machine and registry hosts never belong in the project. */
const MACHINE_PATH = /\/work\/(main|shared|wt-)|\/root\/|registry\.npmjs|registry\.yarnpkg/;

/** @type {import('eslint').Rule.RuleModule} */
const moduleComment = {
  meta: { type: 'suggestion', docs: { description: 'a file opens with a one-line comment saying what it is' }, schema: [] },
  create(context) {
    return {
      Program(node) {
        const source = context.sourceCode;
        const first = source.getAllComments().find((c) => c.type !== 'Shebang');
        const firstToken = source.ast.tokens[0];
        const opensWithComment = first !== undefined && (firstToken === undefined || first.range[0] < firstToken.range[0]);
        if (!opensWithComment) context.report({ node, loc: { line: 1, column: 0 }, message: 'A file opens with a one-line comment saying what it is.' });
      },
    };
  },
};

/** @type {import('eslint').Rule.RuleModule} */
const noMachinePaths = {
  meta: { type: 'problem', docs: { description: 'no path of this machine and no package registry host' }, schema: [] },
  create(context) {
    return {
      Program(node) {
        const lines = context.sourceCode.lines;
        lines.forEach((line, index) => {
          if (MACHINE_PATH.test(line)) context.report({ node, loc: { line: index + 1, column: 0 }, message: 'A path of this machine or a package registry host.' });
        });
      },
    };
  },
};

/** @type {import('eslint').Rule.RuleModule} */
const noUnexplainedSkips = {
  meta: { type: 'problem', docs: { description: 'a skipped or todo test needs a "// skip-reason:" comment on the line above' }, schema: [] },
  create(context) {
    return {
      CallExpression(node) {
        const callee = node.callee;
        if (callee.type !== 'MemberExpression' || callee.object.type !== 'Identifier' || callee.property.type !== 'Identifier') return;
        if (!['it', 'test', 'describe'].includes(callee.object.name)) return;
        const kind = callee.property.name;
        if (kind === 'only') {
          context.report({ node, message: 'A focused test.' });
          return;
        }
        if (kind !== 'skip' && kind !== 'todo') return;
        const above = context.sourceCode.lines[node.loc.start.line - 2] ?? '';
        if (!/skip-reason:/.test(above)) context.report({ node, message: 'A skipped test needs a "// skip-reason:" comment on the line above.' });
      },
    };
  },
};

/** @type {import('eslint').Rule.RuleModule} */
const noExecute = {
  meta: { type: 'problem', docs: { description: 'Hyperdrive has no prepared statements: query(), never execute()' }, schema: [] },
  create(context) {
    return {
      'CallExpression > MemberExpression.callee[property.name="execute"]'(node) {
        context.report({ node, message: 'Hyperdrive has no prepared statements: use query().' });
      },
    };
  },
};

export default {
  meta: { name: 'house' },
  rules: { 'module-comment': moduleComment, 'no-machine-paths': noMachinePaths, 'no-unexplained-skips': noUnexplainedSkips, 'no-execute': noExecute },
};
