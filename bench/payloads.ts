// Generates realistic stand-in payloads for the benchmark: the sizes Stigmer ships (agent-runner ~60 MB PyInstaller
// one-file, stigmer-server ~25 MB, workflow-runner ~20 MB, CLI ~10 MB, temporal ~60 MB) for every platform, at a
// scale factor. Content is deterministic and partly compressible like real executables: code-like runs with
// repeated opcodes and a string table, interleaved with incompressible blocks (compressed data, tables).
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { exeName, type Product } from '../src/product/model.ts';
import type { UncheckedPayload } from '../src/targets/types.ts';

export const SIZES_MB: Record<string, number> = {
  'agent-runner': 60,
  temporal: 60,
  'stigmer-server': 25,
  'workflow-runner': 20,
  stigmer: 10,
};

const BLOCK = 64 * 1024;

function* blocks(seed: number, total: number): Generator<Buffer> {
  let x = seed >>> 0 || 1;
  const rand = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  const words = Buffer.from('runtime.gopanic main.serve http.Handler context.Context encoding/json reflect.Value sync.Mutex '.repeat(8));
  for (let written = 0; written < total; written += BLOCK) {
    const b = Buffer.allocUnsafe(Math.min(BLOCK, total - written));
    const kind = rand() % 10;
    if (kind < 4) {
      // incompressible: random bytes
      for (let i = 0; i + 4 <= b.length; i += 4) b.writeUInt32LE(rand(), i);
      for (let i = b.length & ~3; i < b.length; i++) b[i] = rand() & 0xff;
    } else if (kind < 8) {
      // code-like: a small opcode alphabet with random operands
      for (let i = 0; i < b.length; i++) b[i] = i % 4 === 0 ? [0x48, 0x89, 0x8b, 0xe8, 0x0f][rand() % 5]! : rand() % 16;
    } else {
      // string table
      for (let i = 0; i < b.length; i++) b[i] = words[(i + (rand() % 7)) % words.length]!;
    }
    yield b;
  }
}

/**
 * Writes DIR/<platform>/<binary> for every component and platform and returns DIR. Each payload starts with the
 * real stand-in executable for its platform and has generated data appended up to its size, the way PyInstaller
 * appends its archive to the bootloader: headers stay valid (ELF arch checks pass) and host binaries still run.
 */
export async function generatePayloads(product: Product, dir: string, scale: number, standins: UncheckedPayload[]): Promise<string> {
  let seed = 1;
  for (const platform of product.platforms) {
    for (const c of product.components.filter((x) => x.platforms.includes(platform))) {
      const file = path.join(dir, platform, exeName(c.binary, platform));
      await mkdir(path.dirname(file), { recursive: true });
      const head = await readFile(standins.find((p) => p.component === c.name && p.platform === platform)!.path);
      const out = createWriteStream(file, { mode: 0o755 });
      out.write(head);
      for (const b of blocks(seed++, Math.max(0, Math.round((SIZES_MB[c.name] ?? 10) * scale * 1024 * 1024) - head.length))) {
        if (!out.write(b)) await once(out, 'drain');
      }
      out.end();
      await once(out, 'finish');
    }
  }
  return dir;
}
