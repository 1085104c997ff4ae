/** The Sigma condition expression: selection names, `and`, `or`, `not`, parentheses, `1 of X*`, `all of X*`, `… of them`. Pure. */

/** A parsed condition. */
export type ConditionNode =
  | { kind: 'ref'; name: string }
  | { kind: 'not'; operand: ConditionNode }
  | { kind: 'and' | 'or'; left: ConditionNode; right: ConditionNode }
  | { kind: 'of'; quantifier: '1' | 'all'; pattern: string };

function tokenize(text: string): string[] {
  const tokens = text.match(/\(|\)|[^\s()]+/g);
  if (!tokens) throw new Error('the condition is empty');
  return tokens;
}

/** Parses a condition; throws on anything outside the subset (pipes, `near`, unbalanced parentheses). */
export function parseCondition(text: string): ConditionNode {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos]?.toLowerCase();
  const next = () => {
    const t = tokens[pos++];
    if (t === undefined) throw new Error(`the condition ends early: ${text}`);
    return t;
  };
  function primary(): ConditionNode {
    const t = next();
    const lower = t.toLowerCase();
    if (t === '(') {
      const inner = or();
      if (next() !== ')') throw new Error(`a parenthesis is not closed: ${text}`);
      return inner;
    }
    if (lower === 'not') return { kind: 'not', operand: primary() };
    if (lower === '1' || lower === 'all') {
      if (next().toLowerCase() !== 'of') throw new Error(`expected 'of' after '${t}': ${text}`);
      return { kind: 'of', quantifier: lower === 'all' ? 'all' : '1', pattern: next() };
    }
    if (!/^[A-Za-z_][A-Za-z0-9_*]*$/.test(t) || lower === 'and' || lower === 'or') throw new Error(`unexpected '${t}' in the condition: ${text}`);
    return { kind: 'ref', name: t };
  }
  function and(): ConditionNode {
    let left = primary();
    while (peek() === 'and') {
      pos++;
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  }
  function or(): ConditionNode {
    let left = and();
    while (peek() === 'or') {
      pos++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  }
  const tree = or();
  if (pos !== tokens.length) throw new Error(`unexpected '${tokens[pos] ?? ''}' in the condition: ${text}`);
  return tree;
}
