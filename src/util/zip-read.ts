// Reading zip archives with yauzl, shared by payload extraction and verify: open lazily, list every entry, then
// stream the chosen ones (the listing comes first so callers can check the whole archive before extracting).
import type { Readable } from 'node:stream';
import type yauzl from 'yauzl';

/**
 * Opens a zip for lazy reading. `decodeStrings: false` keeps entry names as raw bytes (extraction checks them
 * itself instead of trusting yauzl's decoding).
 */
export async function openZip(file: string, opts: { decodeStrings?: boolean } = {}): Promise<yauzl.ZipFile> {
  const { default: zipReader } = await import('yauzl'); // loaded on use: `plan` imports this module and reads no zip
  return new Promise((resolve, reject) => {
    zipReader.open(file, { lazyEntries: true, decodeStrings: opts.decodeStrings ?? true, validateEntrySizes: true, autoClose: false }, (err, zip) => (err ? reject(err) : resolve(zip)));
  });
}

/** Every entry of the central directory, in order. */
export function zipEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  const entries: yauzl.Entry[] = [];
  return new Promise<yauzl.Entry[]>((resolve, reject) => {
    zip.on('entry', (e: yauzl.Entry) => {
      entries.push(e);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', reject);
    zip.readEntry();
  });
}

export function zipEntryStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))));
}
