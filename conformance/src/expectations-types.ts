/**
 * One reason for a group of checks: exact names in `cases`, and/or every check whose name
 * matches the regular expression `match` (for the seeded sweep's generated names).
 */
export interface ExpectationGroup {
  reason: string;
  cases?: string[];
  match?: string;
}

/**
 * A backend's declared gaps: `unsupported` (with the reason) and `failing` (with the issue that
 * tracks it), each as groups with one reason each, or (the older form) a map from exact case
 * name to reason. A listed case that passes is reported as an unexpected pass.
 */
export interface Expectations {
  backend?: string;
  unsupported?: ExpectationGroup[] | Record<string, string>;
  failing?: ExpectationGroup[] | Record<string, string>;
}

/** How `name` is listed under `key`: the reason, and whether by exact name (else by `match`). */
export function listing(expectations: Expectations, key: 'unsupported' | 'failing', name: string): { reason: string; exact: boolean } | undefined {
  const table = expectations[key];
  if (!table) return undefined;
  if (!Array.isArray(table)) return Object.hasOwn(table, name) ? { reason: table[name], exact: true } : undefined;
  for (const g of table) if (g.cases?.includes(name)) return { reason: g.reason, exact: true };
  for (const g of table) if (g.match !== undefined && new RegExp(g.match).test(name)) return { reason: g.reason, exact: false };
  return undefined;
}

/** The reason `name` is listed under `key`, if it is. */
export function listedReason(expectations: Expectations, key: 'unsupported' | 'failing', name: string): string | undefined {
  return listing(expectations, key, name)?.reason;
}
