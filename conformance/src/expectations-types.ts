/**
 * A backend's declared gaps, by exact case name: `unsupported` (with the reason) and `failing`
 * (with the issue that tracks it). A listed case that passes is reported as an unexpected pass.
 */
export interface Expectations {
  backend?: string;
  unsupported?: Record<string, string>;
  failing?: Record<string, string>;
}
