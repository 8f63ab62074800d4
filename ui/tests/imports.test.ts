// @vitest-environment node
// Only ui/src/lib/backend/tauri.ts may import `@tauri-apps/*`: everything else must run in a plain
// browser and in tests against the Backend interface.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src', import.meta.url));
const ALLOWED = ['lib', 'backend', 'tauri.ts'].join(sep);
// import x from '…', import '…', export … from '…', import('…'), require('…')
const TAURI_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"`]@tauri-apps\//;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const sources = files(SRC).filter((path) => /\.(ts|js|mjs|svelte)$/.test(path));

describe('@tauri-apps imports', () => {
  it('finds the sources and recognises a Tauri import', () => {
    expect(sources.length).toBeGreaterThan(5);
    expect(readFileSync(join(SRC, ALLOWED), 'utf8')).toMatch(TAURI_IMPORT);
    expect(`import { invoke } from "@tauri-apps/api/core"`).toMatch(TAURI_IMPORT);
    expect(`const m = await import('@tauri-apps/plugin-shell')`).toMatch(TAURI_IMPORT);
    expect(`export * from '@tauri-apps/api'`).toMatch(TAURI_IMPORT);
  });

  it('appear in no file under ui/src except lib/backend/tauri.ts', () => {
    const offenders = sources
      .filter((path) => relative(SRC, path) !== ALLOWED)
      .filter((path) => TAURI_IMPORT.test(readFileSync(path, 'utf8')))
      .map((path) => relative(SRC, path));
    expect(offenders).toEqual([]);
  });
});
