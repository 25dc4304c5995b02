// The package description both Linux formats show (deb's extended Description, rpm's %description).
import type { Product } from '../../product/model.ts';

/** Wraps one line of text at `width` columns on spaces (a longer word stays whole). */
export function wrap(line: string, width: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const word of line.split(/\s+/).filter(Boolean)) {
    if (cur && cur.length + 1 + word.length > width) {
      out.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) out.push(cur);
  return out;
}

/** The extended description: the definition's text (long lines wrapped under lintian's 80 columns), then the services. */
export function longDescription(product: Product): string {
  const lines = product.meta.description.split('\n').flatMap((l) => (l.trim() === '' ? [''] : l.length <= 79 ? [l.trimEnd()] : wrap(l, 79)));
  const services = product.services.map((s) => s.name);
  if (services.length) {
    const list = services.length === 1 ? services[0]! : `${services.slice(0, -1).join(', ')} and ${services[services.length - 1]}`;
    lines.push('', ...wrap(`The systemd units ${list} are started together by ${product.meta.name}.target, which the package enables.`, 79));
  }
  return lines.join('\n');
}
