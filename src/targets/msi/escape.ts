// Quoting for what the WiX source carries: XML attributes, MSI "Formatted" text, registry values and
// Windows command lines. Placeholders for install-time paths stay opaque until the very end.

/** An XML attribute value (double-quoted): the one implementation in render/quote.ts. */
export { xmlAttr } from '../../render/quote.ts';

/** Literal text inside an MSI Formatted column: "[", "]", "{" and "}" would start a reference. */
export function msiLiteral(s: string): string {
  return s.replace(/[[\]{}]/g, (c) => `[\\${c}]`);
}

/** A piece of Formatted text: literal text, or a reference resolved at install time (e.g. "[CommonAppDataFolder]x"). */
export type FormattedPart = { literal: string } | { ref: string };

export function formatted(parts: FormattedPart[]): string {
  return parts.map((p) => ('literal' in p ? msiLiteral(p.literal) : p.ref)).join('');
}

/** A REG_SZ Registry.Value: a leading "#" would make it a number, so it is doubled. */
export function registryString(parts: FormattedPart[]): string {
  const text = formatted(parts);
  return text.startsWith('#') ? `#${text}` : text;
}

/** A REG_MULTI_SZ Registry.Value: "[~]" delimits the strings; leading and trailing "[~]" replace the whole value. */
export function registryMultiString(items: FormattedPart[][]): string {
  if (items.some((parts) => formatted(parts) === '')) throw new Error('internal: an empty string cannot be stored in a REG_MULTI_SZ value');
  return `[~]${items.map(formatted).join('[~]')}[~]`;
}

/**
 * One argument of a Windows command line (the CommandLineToArgvW rules every C runtime and Go use), as
 * Formatted text. An argument holding a reference is always quoted: the path it becomes may contain spaces.
 */
export function windowsArg(parts: FormattedPart[]): string {
  const plain = parts.every((p) => 'literal' in p);
  const text = parts.map((p) => ('literal' in p ? p.literal : '')).join('');
  if (plain && text !== '' && !/[\s"]/.test(text)) return msiLiteral(text);
  let out = '"';
  for (const [i, p] of parts.entries()) {
    if ('ref' in p) {
      out += p.ref;
      continue;
    }
    let backslashes = 0;
    let lit = '';
    for (const c of p.literal) {
      if (c === '\\') {
        backslashes++;
        continue;
      }
      if (c === '"') lit += '\\'.repeat(backslashes * 2 + 1) + '"';
      else lit += '\\'.repeat(backslashes) + c;
      backslashes = 0;
    }
    // Backslashes right before the closing quote must be doubled; before a reference they stay as they are.
    lit += '\\'.repeat(i === parts.length - 1 ? backslashes * 2 : backslashes);
    out += msiLiteral(lit);
  }
  return out + '"';
}
