import { BadRequestError } from '../../shared/errors.js';

export type Comparison = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export interface FilterTerm {
  field: string;
  op: Comparison;
  value: string | number | boolean | null;
}
export interface OrderTerm {
  field: string;
  direction: 'asc' | 'desc';
}

const ops = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

/**
 * Parses the OData subset MK.IO documents for `$filter`: comparisons joined by `and`, values as quoted strings
 * (`''` escapes a quote), ISO date-times, numbers, true/false/null. Anything else is a 400 naming the problem.
 */
export function parseFilter(input: string | undefined, allowed: ReadonlySet<string>): FilterTerm[] {
  if (input === undefined || input.trim() === '') return [];
  // Not a character of any value Reel stores, and one PostgreSQL refuses: the same 400 on both databases.
  if (input.includes('\u0000')) throw new BadRequestError('InvalidFilter', 'Invalid $filter: it holds a NUL character');
  const tokens = tokenize(input);
  const terms: FilterTerm[] = [];
  let i = 0;
  const fail = (why: string) => new BadRequestError('InvalidFilter', `Invalid $filter '${input}': ${why}`);
  while (i < tokens.length) {
    const field = tokens[i++];
    const op = tokens[i++];
    const raw = tokens[i++];
    if (field === undefined || op === undefined || raw === undefined) throw fail('expected <field> <operator> <value>');
    if (!allowed.has(field)) throw fail(`field '${field}' cannot be filtered on; ${allowedText(allowed)}`);
    if (!ops.has(op.toLowerCase())) throw fail(`unsupported operator '${op}'`);
    terms.push({ field, op: op.toLowerCase() as Comparison, value: parseValue(raw, fail) });
    if (i < tokens.length) {
      if (tokens[i]?.toLowerCase() !== 'and') throw fail(`expected 'and' but found '${tokens[i]}'`);
      i++;
      if (i >= tokens.length) throw fail('dangling and');
    }
  }
  return terms;
}

function tokenize(input: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === "'") {
      let s = "'";
      i++;
      for (;;) {
        if (i >= input.length) throw new BadRequestError('InvalidFilter', `Invalid $filter '${input}': unterminated string`);
        if (input[i] === "'" && input[i + 1] === "'") {
          s += "'";
          i += 2;
          continue;
        }
        if (input[i] === "'") {
          i++;
          break;
        }
        s += input[i++];
      }
      out.push(s);
      continue;
    }
    let j = i;
    while (j < input.length && input[j] !== ' ' && input[j] !== '\t') j++;
    out.push(input.slice(i, j));
    i = j;
  }
  return out;
}

function parseValue(raw: string, fail: (why: string) => Error): FilterTerm['value'] {
  if (raw.startsWith("'")) return raw.slice(1);
  if (raw === 'null') return null;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw)) {
    const t = Date.parse(raw);
    if (Number.isNaN(t)) throw fail(`invalid date '${raw}'`);
    return new Date(t).toISOString();
  }
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  throw fail(`cannot read value '${raw}' (quote strings with ')`);
}

/** `$orderby=name desc, properties/created` → terms; unknown fields are a 400. */
export function parseOrderBy(input: string | undefined, allowed: ReadonlySet<string>): OrderTerm[] {
  if (input === undefined || input.trim() === '') return [];
  return input.split(',').map((part) => {
    const [field, dir, extra] = part.trim().split(/\s+/);
    if (!field || extra !== undefined || (dir !== undefined && !/^(asc|desc)$/i.test(dir))) {
      throw new BadRequestError('InvalidOrderBy', `Invalid $orderby '${input}'`);
    }
    if (!allowed.has(field))
      throw new BadRequestError('InvalidOrderBy', `Invalid $orderby '${input}': field '${field}' cannot be sorted on; ${allowedText(allowed)}`);
    return { field, direction: (dir?.toLowerCase() ?? 'asc') as 'asc' | 'desc' };
  });
}

function allowedText(allowed: ReadonlySet<string>): string {
  return allowed.size === 0 ? 'this list has no such fields' : `allowed: ${[...allowed].join(', ')}`;
}
