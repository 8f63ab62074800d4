import { createTauriBackend, isTauri } from './tauri';
import { MemoryBackend, startDemo } from './memory';
import type { Backend } from './types';

export type { Backend, Unwatch } from './types';
export { MemoryBackend } from './memory';

/** Tauri inside the app; in a plain browser an in-memory fake that posts demo notifications. */
export function createBackend(): Backend {
  if (isTauri()) return createTauriBackend();
  const memory = new MemoryBackend();
  startDemo(memory);
  return memory;
}
