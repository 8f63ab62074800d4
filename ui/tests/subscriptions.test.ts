import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import { DEMO_CATALOG, MemoryBackend } from '../src/lib/backend/memory';
import type { KeeperEvent } from '../src/lib/bindings';
import { ago, countdown, kindFor, lifetimeSeconds, minutesText } from '../src/lib/subscriptions/catalog';

afterEach(() => cleanup());

const input = (id: string) => document.getElementById(id) as HTMLInputElement;
const changeType = (value: string) =>
  document.querySelector<HTMLInputElement>(`input[name="changeType"][value="${value}"]`)!;
const tableRows = () => Array.from(document.querySelectorAll<HTMLElement>('#subscriptions .subscription-row'));

async function openSubscriptions(backend: MemoryBackend) {
  render(App, { props: { backend } });
  await fireEvent.click(screen.getByRole('tab', { name: 'Subscriptions' }));
  await screen.findByTestId('graph-status');
}

async function subscribe(resource: string, lifetime = 'max') {
  await fireEvent.input(input('resource'), { target: { value: resource } });
  await fireEvent.input(input('expires-in'), { target: { value: lifetime } });
  await fireEvent.submit(document.getElementById('subscribe-form')!);
}

describe('the catalog logic', () => {
  it('matches resources as the engine does', () => {
    expect(kindFor("/me/mailFolders('inbox')/messages", DEMO_CATALOG)?.name).toBe('message');
    expect(kindFor('Users/42/Messages?$select=subject', DEMO_CATALOG)?.name).toBe('message');
    expect(kindFor('users', DEMO_CATALOG)?.name).toBe('user');
    expect(kindFor('sites/1/lists/2', DEMO_CATALOG)).toBeNull();
  });

  it('formats lifetimes and countdowns for people', () => {
    const now = Date.UTC(2026, 0, 1);
    const at = (s: number) => new Date(now + s * 1000).toISOString();
    expect(countdown(at(7 * 86400 - 60), now)).toBe('6d 23h 59m');
    expect(countdown(at(4 * 3600 + 300), now)).toBe('4h 05m');
    expect(countdown(at(245), now)).toBe('4m 05s');
    expect(countdown(at(12), now)).toBe('12s');
    expect(countdown(at(-1), now)).toBe('expired');
    expect(ago(at(-120), now)).toBe('2 min ago');
    expect(minutesText(10080)).toBe('7 days');
    expect(minutesText(90)).toBe('1 hour 30 minutes');
    expect(lifetimeSeconds('max')).toBeNull();
    expect(lifetimeSeconds('90s')).toBe(90);
    expect(lifetimeSeconds('2h')).toBe(7200);
    expect(() => lifetimeSeconds('soon')).toThrow(/45m/);
  });
});

describe('the Subscriptions tab', () => {
  it('says Graph is not connected until the sandbox starts, then shows the simulated Graph', async () => {
    const backend = new MemoryBackend();
    await openSubscriptions(backend);
    await waitFor(() => expect(screen.getByTestId('graph-status').textContent).toContain('Not connected'));
    await fireEvent.click(screen.getByRole('tab', { name: 'Live feed' }));
    await fireEvent.click(await screen.findByRole('button', { name: 'Try without a tenant' }));
    await fireEvent.click(screen.getByRole('tab', { name: 'Subscriptions' }));
    await waitFor(() => expect(screen.getByTestId('graph-status').textContent).toContain('simulated'));
  });

  it('offers only the change types the resource sends, and what it needs', async () => {
    const backend = new MemoryBackend();
    await openSubscriptions(backend);
    await fireEvent.input(input('resource'), { target: { value: 'users' } });
    await waitFor(() => expect(changeType('created').disabled).toBe(true));
    expect(changeType('updated').disabled).toBe(false);
    expect(changeType('created').checked).toBe(false);
    expect(screen.getByTestId('resource-kind').textContent).toContain('User.Read.All');
    await fireEvent.input(input('resource'), { target: { value: 'users/42/messages' } });
    await waitFor(() => expect(changeType('created').disabled).toBe(false));
    expect(screen.getByTestId('resource-kind').textContent).toContain('7 days');
  });

  it('creates a subscription that appears with a live countdown, renews it and deletes it after a confirm', async () => {
    const backend = new MemoryBackend();
    await backend.tryWithoutTenant();
    await openSubscriptions(backend);
    await fireEvent.input(input('resource'), { target: { value: 'users/42/messages' } });
    await fireEvent.click(changeType('created'));
    await fireEvent.click(changeType('created')); // unchecked and checked again: still chosen
    await subscribe('users/42/messages', '2h');
    await waitFor(() => expect(tableRows()).toHaveLength(1));
    const row = tableRows()[0];
    expect(row.textContent).toContain('users/42/messages');
    expect(row.querySelector('.badge')?.textContent).toBe('active');
    expect(row.querySelector('[data-testid="countdown"]')?.textContent).toMatch(/^(1h 5\dm|2h 00m)$/);
    await waitFor(() => expect(input('resource').value).toBe(''));

    await fireEvent.click(row.querySelector<HTMLButtonElement>('button[data-action="renew"]')!);
    await waitFor(() => expect(tableRows()[0].querySelector('[data-testid="countdown"]')?.textContent).toMatch(/^6d 2\dh/));

    const del = () => tableRows()[0].querySelector<HTMLButtonElement>('button[data-action="delete"]')!;
    await waitFor(() => expect(del().disabled).toBe(false)); // the renewal has finished
    await fireEvent.click(del());
    expect(backend.kept[0].status).toBe('active');
    expect(del().textContent?.trim()).toBe('Confirm delete');
    await fireEvent.click(del());
    await waitFor(() => expect(tableRows()[0].dataset.status).toBe('removed'));
    expect(tableRows()[0].querySelector('button[data-action="renew"]')).toBeNull();
  });

  it('shows the refusal in place and keeps what was typed', async () => {
    const backend = new MemoryBackend();
    await backend.tryWithoutTenant();
    await openSubscriptions(backend);
    await subscribe('users/42/messages', '9d');
    const error = await screen.findByRole('alert');
    expect(error.id).toBe('subscribe-error');
    expect(error.textContent).toContain('at most 7 days');
    expect(input('resource').value).toBe('users/42/messages');
    expect(tableRows()).toHaveLength(0);
  });

  it('lists what the keeper did as it happens and refreshes the table', async () => {
    const backend = new MemoryBackend();
    await backend.tryWithoutTenant();
    await openSubscriptions(backend);
    await subscribe('users/42/messages', '1h');
    await waitFor(() => expect(tableRows()).toHaveLength(1));
    const id = backend.kept[0].id;
    // The keeper renews behind the UI's back: the store changes, then the event arrives.
    backend.kept[0].expirationDateTime = new Date(Date.now() + 3 * 86400_000).toISOString();
    const event: KeeperEvent = {
      id: 'k1',
      at: new Date().toISOString(),
      subscriptionId: id,
      action: 'renewed',
      ok: true,
      message: 'Renewed on schedule; it now expires in three days.',
      expirationDateTime: backend.kept[0].expirationDateTime,
      newSubscriptionId: null,
    };
    backend.keep(event);
    const listed = await screen.findByText('Renewed on schedule; it now expires in three days.', {}, { timeout: 3000 });
    expect(listed.closest('.keeper-event')?.getAttribute('data-action')).toBe('renewed');
    await waitFor(() => expect(tableRows()[0].querySelector('[data-testid="countdown"]')?.textContent).toMatch(/^2d 23h/), { timeout: 3000 });
  });
});
