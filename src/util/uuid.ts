// Name-based UUIDs (RFC 4122 version 5): stable identities derived from a namespace GUID and a name, so
// rebuilding the same inputs gives the same GUIDs (MSI ProductCode, PackageCode and component GUIDs).
import { createHash } from 'node:crypto';

const GUID = /^\{?([0-9A-Fa-f]{8})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{12})\}?$/;

/** Upper-case GUID without braces, e.g. 0E8C2A51-7F3D-5B21-9C44-6A1D2E3F4B5C. */
export function uuidV5(namespace: string, name: string): string {
  const m = GUID.exec(namespace);
  if (!m) throw new Error(`internal: ${JSON.stringify(namespace)} is not a GUID`);
  const ns = Buffer.from(m.slice(1).join(''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
