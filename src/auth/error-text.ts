/** Text that may go into an OAuth `error_description`: RFC 6749 §5.2's character set, echoed input quoted and cut short. Pure. */

/** RFC 6749 §5.2: `error_description` uses only %x20-21 / %x23-5B / %x5D-7E (no `"`, no `\`). */
export const ERROR_DESCRIPTION_PATTERN = /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/;

/** The most characters of a client-supplied value echoed in a description. */
export const MAX_ECHOED_CHARS = 100;

/** True when `text` may be sent as an `error_description`. */
export function isErrorDescription(text: string): boolean {
  return ERROR_DESCRIPTION_PATTERN.test(text);
}

/**
 * A client-supplied value made safe to echo in a description: cut to `max` characters (marked
 * with `...`), every character outside the RFC 6749 set replaced by `?`, wrapped in single quotes.
 */
export function quoteValue(value: string, max: number = MAX_ECHOED_CHARS): string {
  const cut = value.length > max ? `${value.slice(0, max)}...` : value;
  return `'${cut.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '?')}'`;
}
