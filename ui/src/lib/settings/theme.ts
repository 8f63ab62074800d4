// The theme: light, dark, or the system's, applied as `data-theme` on the root so the CSS has one dark
// palette; "system" follows the OS as it changes.
import type { Theme } from '../bindings';

let stopFollowing: (() => void) | null = null;

/** Sets the root's theme now and, for `system`, whenever the OS switches. */
export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  stopFollowing?.();
  stopFollowing = null;
  if (theme !== 'system') {
    root.dataset.theme = theme;
    return;
  }
  const query = typeof window.matchMedia === 'function' ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  const follow = () => (root.dataset.theme = query?.matches ? 'dark' : 'light');
  follow();
  query?.addEventListener('change', follow);
  stopFollowing = () => query?.removeEventListener('change', follow);
}
