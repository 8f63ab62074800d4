// The Health panel: the doctor's checks in order, each with its verdict and fix, a summary that says
// what is broken, and a re-run that reflects what changed (here: trying without a tenant).
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import App from '../src/App.svelte';
import { MemoryBackend } from '../src/lib/backend/memory';
import type { Check } from '../src/lib/bindings';
import Health from '../src/lib/components/Health.svelte';

afterEach(() => cleanup());

const rows = () => Array.from(document.querySelectorAll<HTMLElement>('#health .check'));
const health = (name: string) => document.querySelector<HTMLElement>(`#health [data-check="${name}"]`)?.dataset.health;

describe('Health panel', () => {
  it('shows what is broken and how to fix it, then re-checks after trying without a tenant', async () => {
    const backend = new MemoryBackend();
    render(Health, { props: { backend } });
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(health('credentials')).toBe('fail');
    expect(screen.getByTestId('health-summary').textContent).toContain('1 broken');
    expect(rows()[0].textContent).toContain('hookscope login');

    await backend.tryWithoutTenant();
    await fireEvent.click(screen.getByRole('button', { name: 'Check again' }));
    await waitFor(() => expect(health('credentials')).toBe('ok'));
    expect(health('publicUrl')).toBe('warn');
    expect(health('subscription')).toBe('ok');
    expect(screen.getByTestId('health-summary').textContent).toContain('1 thing to look at');
  });

  it('says so when the checks themselves cannot run', async () => {
    const backend = new MemoryBackend();
    backend.doctor = vi.fn(async (): Promise<Check[]> => {
      throw new Error('The engine is not running.');
    });
    render(Health, { props: { backend } });
    expect((await screen.findByRole('alert')).textContent).toBe('The engine is not running.');
    expect(screen.getByTestId('health-summary').textContent).toContain('could not run');
  });

  it('is a tab of the app, reached with the arrow keys from the others', async () => {
    render(App, { props: { backend: new MemoryBackend() } });
    const feed = await screen.findByRole('tab', { name: 'Live feed' });
    await fireEvent.keyDown(feed, { key: 'ArrowLeft' });
    expect(screen.getByRole('tab', { name: 'Settings' }).getAttribute('aria-selected')).toBe('true');
    await fireEvent.keyDown(screen.getByRole('tab', { name: 'Settings' }), { key: 'ArrowLeft' });
    expect(screen.getByRole('tab', { name: 'Health' }).getAttribute('aria-selected')).toBe('true');
    await waitFor(() => expect(rows().length).toBeGreaterThan(0));
    await fireEvent.keyDown(screen.getByRole('tab', { name: 'Health' }), { key: 'ArrowRight' });
    await fireEvent.keyDown(screen.getByRole('tab', { name: 'Settings' }), { key: 'ArrowRight' });
    expect(screen.getByRole('tab', { name: 'Live feed' }).getAttribute('aria-selected')).toBe('true');
  });
});
