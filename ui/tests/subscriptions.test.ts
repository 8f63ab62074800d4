import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import { DEMO_CATALOG, MemoryBackend } from '../src/lib/backend/memory';
import type { KeeperEvent, Subscription } from '../src/lib/bindings';
import { ago, countdown } from '../src/lib/format';
import { kindFor, lifetimeSeconds, minutesText } from '../src/lib/subscriptions/catalog';

afterEach(() => cleanup());

const input = (id: string) => document.getElementById(id) as HTMLInputElement;
const changeType = (value: string) =>
  document.querySelector<HTMLInputElement>(`input[name="changeType"][value="${value}"]`)!;
const tableRows = () => Array.from(document.querySelectorAll<HTMLElement>('#subscriptions .subscription-row'));
const rowFor = (resource: string) => tableRows().find((r) => r.querySelector('.resource code')?.textContent === resource);
const countdownOf = (row: HTMLElement | undefined) => row?.querySelector('.countdown')?.textContent?.trim();
const summary = () => document.getElementById('remote-summary')?.textContent?.replace(/\s+/g, ' ').trim();
const activity = () => Array.from(document.querySelectorAll<HTMLElement>('#keeper-activity .keeper-event'));

async function openSubscriptions(backend: MemoryBackend) {
  render(App, { props: { backend } });
  await fireEvent.click(screen.getByRole('tab', { name: 'Subscriptions' }));
  await waitFor(() => expect(screen.getByTestId('graph-status').textContent).not.toContain('Checking'));
}

/** A backend already connected to the simulated Graph, as after "Try without a tenant". */
async function connected() {
  const backend = new MemoryBackend();
  await backend.tryWithoutTenant();
  return backend;
}

async function fill(resource: string, lifetime = 'max') {
  await fireEvent.input(input('resource'), { target: { value: resource } });
  await fireEvent.input(input('expires-in'), { target: { value: lifetime } });
}

async function subscribe(resource: string, lifetime = 'max') {
  await fill(resource, lifetime);
  await fireEvent.submit(document.getElementById('subscribe-form')!);
}

function keeperEvent(fields: Partial<KeeperEvent> & Pick<KeeperEvent, 'id' | 'subscriptionId'>): KeeperEvent {
  return {
    at: new Date().toISOString(),
    action: 'renewed',
    ok: true,
    message: 'Renewed on schedule.',
    expirationDateTime: null,
    newSubscriptionId: null,
    ...fields,
  };
}

describe('the catalog logic', () => {
  it('matches resources as the engine does', () => {
    expect(kindFor("/me/mailFolders('inbox')/messages", DEMO_CATALOG)?.name).toBe('message');
    expect(kindFor("Users('ab')/mailFolders('Inbox')/Messages", DEMO_CATALOG)?.name).toBe('message');
    expect(kindFor('Users/42/Messages?$select=subject', DEMO_CATALOG)?.name).toBe('message');
    expect(kindFor('/users', DEMO_CATALOG)?.name).toBe('user');
    expect(kindFor('users/42', DEMO_CATALOG)?.name).toBe('user');
    expect(kindFor('communications/presences/u1', DEMO_CATALOG)?.name).toBe('presence');
    expect(kindFor('users/42/messages/7', DEMO_CATALOG)).toBeNull();
    expect(kindFor('sites/1/lists/2', DEMO_CATALOG)).toBeNull();
    expect(kindFor('  ', DEMO_CATALOG)).toBeNull();
  });

  it('reads lifetimes as the engine does', () => {
    expect(minutesText(10080)).toBe('7 days');
    expect(minutesText(41760)).toBe('29 days');
    expect(minutesText(60)).toBe('1 hour');
    expect(minutesText(90)).toBe('1 hour 30 minutes');
    expect(lifetimeSeconds('max')).toBeNull();
    expect(lifetimeSeconds('')).toBeNull();
    expect(lifetimeSeconds('90s')).toBe(90);
    expect(lifetimeSeconds('45')).toBe(2700);
    expect(lifetimeSeconds('2h')).toBe(7200);
    expect(lifetimeSeconds('3 days')).toBe(259200);
    expect(() => lifetimeSeconds('soon')).toThrow("'soon' is not a lifetime; use max or a number with s, m, h or d, like 45m or 3d.");
    expect(() => lifetimeSeconds('0m')).toThrow(/zero/);
  });
});

describe('countdown and ago', () => {
  const now = Date.UTC(2026, 0, 1);
  const at = (s: number) => new Date(now + s * 1000).toISOString();

  it('counts down in the largest useful units', () => {
    expect(countdown(at(7 * 86400 - 60), now)).toBe('6d 23h 59m');
    expect(countdown(at(86400 + 5 * 60), now)).toBe('1d 0h 05m');
    expect(countdown(at(4 * 3600 + 300), now)).toBe('4h 05m');
    expect(countdown(at(245), now)).toBe('4m 05s');
    expect(countdown(at(60), now)).toBe('1m 00s');
    expect(countdown(at(12), now)).toBe('12s');
    expect(countdown(at(0.5), now)).toBe('expired'); // under a second left is nothing to count
    expect(countdown(at(-1), now)).toBe('expired');
    expect(countdown('not a date', now)).toBe('—');
  });

  it('says how long ago in words', () => {
    expect(ago(at(-5), now)).toBe('just now');
    expect(ago(at(-120), now)).toBe('2 min ago');
    expect(ago(at(-3 * 3600), now)).toBe('3 h ago');
    expect(ago(at(-2 * 86400), now)).toBe('2 d ago');
    expect(ago(null, now)).toBe('—');
  });
});

describe('the tabs', () => {
  it('opens on the live feed and switches to the subscriptions and back', async () => {
    render(App, { props: { backend: new MemoryBackend() } });
    const feedTab = screen.getByRole('tab', { name: 'Live feed' });
    const subsTab = screen.getByRole('tab', { name: 'Subscriptions' });
    expect(feedTab.getAttribute('aria-selected')).toBe('true');
    expect(subsTab.getAttribute('aria-selected')).toBe('false');
    await screen.findByText('No notifications yet');
    expect(document.getElementById('subscribe-form')).toBeNull();

    await fireEvent.click(subsTab);
    expect(subsTab.getAttribute('aria-selected')).toBe('true');
    expect(feedTab.getAttribute('aria-selected')).toBe('false');
    expect(document.getElementById('subscribe-form')).not.toBeNull();
    expect(screen.queryByText('No notifications yet')).toBeNull();

    await fireEvent.keyDown(subsTab, { key: 'ArrowLeft' });
    expect(feedTab.getAttribute('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(feedTab);
    await screen.findByText('No notifications yet');
  });
});

describe('the Subscriptions tab', () => {
  it('says Graph is not connected and offers the simulator, which connects it and lists its subscription', async () => {
    const backend = new MemoryBackend();
    await openSubscriptions(backend);
    const status = screen.getByTestId('graph-status');
    expect(status.textContent).toContain('Hookscope is not connected to Graph');
    expect(status.textContent).toContain('Try without a tenant');
    expect(status.textContent).not.toContain('simulated');
    expect(document.getElementById('no-subscriptions')).not.toBeNull();

    await fireEvent.click(within(status).getByRole('button', { name: 'Try without a tenant' }));
    await waitFor(() => expect(screen.getByTestId('graph-status').textContent).toContain('Connected to http://127.0.0.1:47001'));
    expect(screen.getByTestId('graph-status').querySelector('.badge')?.textContent).toBe('simulated');
    expect(screen.queryByRole('button', { name: 'Try without a tenant' })).toBeNull();
    await waitFor(() => expect(rowFor("/me/mailFolders('inbox')/messages")).toBeDefined());
  });

  it('offers only the change types the resource sends, and says what it needs', async () => {
    await openSubscriptions(new MemoryBackend());
    expect(screen.getByTestId('resource-kind').textContent).toContain('Pick an example');
    // The examples come from the catalog.
    const examples = Array.from(document.querySelectorAll<HTMLOptionElement>('#resource-examples option')).map((o) => o.value);
    expect(examples).toEqual(expect.arrayContaining(["/me/mailFolders('inbox')/messages", '/communications/presences/{id}']));

    await fireEvent.input(input('resource'), { target: { value: 'users' } });
    await waitFor(() => expect(changeType('created').disabled).toBe(true));
    expect(changeType('created').checked).toBe(false);
    expect(changeType('updated').disabled).toBe(false);
    expect(changeType('updated').checked).toBe(true);
    expect(input('rich').disabled).toBe(true);
    const kind = screen.getByTestId('resource-kind').textContent!;
    expect(kind).toContain('user');
    expect(kind).toContain('User.Read.All');
    expect(kind).toContain('29 days');
    expect(input('expires-in').placeholder).toBe('max (29 days)');

    // Typing on through the prefix keeps the choice made before it.
    await fireEvent.input(input('resource'), { target: { value: 'users/42/messages' } });
    await waitFor(() => expect(changeType('created').disabled).toBe(false));
    expect(changeType('created').checked).toBe(true);
    expect(input('rich').disabled).toBe(false);
    expect(screen.getByTestId('resource-kind').textContent).toContain('Mail.Read (application)');
    expect(screen.getByTestId('resource-kind').textContent).toContain('7 days');

    await fireEvent.input(input('resource'), { target: { value: 'communications/presences/u1' } });
    await waitFor(() => expect(changeType('deleted').disabled).toBe(true));
    expect(screen.getByTestId('resource-kind').textContent).toContain('no application permission');

    // Free text: Graph decides, so nothing is held back.
    await fireEvent.input(input('resource'), { target: { value: 'sites/1/lists/2' } });
    await waitFor(() => expect(changeType('deleted').disabled).toBe(false));
    expect(['created', 'updated', 'deleted'].every((t) => !changeType(t).disabled && changeType(t).checked)).toBe(true);
    expect(screen.getByTestId('resource-kind').textContent).toContain('Not in');
  });

  it('sends what the form says', async () => {
    const backend = await connected();
    const sent: Parameters<MemoryBackend['subscribe']>[0][] = [];
    const real = backend.subscribe.bind(backend);
    backend.subscribe = (i) => (sent.push(i), real(i));
    await openSubscriptions(backend);
    expect(input('expires-in').value).toBe('max');
    expect(input('lifecycle').checked).toBe(true);
    expect(input('auto-renew').checked).toBe(true);
    await fill('users/42/messages', '2h');
    await fireEvent.click(changeType('updated'));
    await fireEvent.click(input('auto-renew'));
    await fireEvent.submit(document.getElementById('subscribe-form')!);
    await waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toEqual({
      resource: 'users/42/messages',
      changeTypes: 'created,deleted',
      expiresIn: '2h',
      rich: false,
      lifecycle: true,
      autoRenew: false,
    });
    await waitFor(() => expect(rowFor('users/42/messages')?.querySelector('.renews')?.textContent).toBe('auto-renew off'));
  });

  it('creates a subscription that appears with a ticking countdown, and clears the resource', async () => {
    const backend = await connected();
    await openSubscriptions(backend);
    await subscribe('users/42/messages', '90s');
    await waitFor(() => expect(rowFor('users/42/messages')).toBeDefined());
    const row = rowFor('users/42/messages')!;
    expect(row.querySelector('.change-types')?.textContent).toBe('created,updated,deleted');
    expect(row.querySelector('.badge')?.textContent).toBe('active');
    expect(row.querySelector('.granted')?.textContent).toBe('just now');
    expect(row.querySelector('.renews')?.textContent).toMatch(/^in (59s|1m 00s)$/); // with a third of 90 s left
    await waitFor(() => expect(input('resource').value).toBe(''));
    expect(document.getElementById('subscribe-done')?.textContent).toBe('Subscribed to users/42/messages.');
    const first = countdownOf(row)!;
    expect(first).toMatch(/^1m (29|30)s$/);
    // The countdown moves on its own, once a second.
    await waitFor(() => expect(countdownOf(rowFor('users/42/messages'))).not.toBe(first), { timeout: 2500 });
    expect(countdownOf(rowFor('users/42/messages'))).toMatch(/^1m 2\ds$/);
  });

  it.each([
    ['9d', 'message subscriptions live at most 7d (10080 minutes); ask for less or use max.'],
    ['soon', "'soon' is not a lifetime; use max or a number with s, m, h or d, like 45m or 3d."],
  ])('shows the refusal of a lifetime of %s in place and keeps what was typed', async (lifetime, sentence) => {
    const backend = await connected();
    await openSubscriptions(backend);
    const before = tableRows().length;
    await subscribe('users/42/messages', lifetime);
    const error = await screen.findByRole('alert');
    expect(error.id).toBe('subscribe-error');
    expect(error.textContent).toBe(sentence);
    expect(error.closest('form')?.id).toBe('subscribe-form');
    expect(input('resource').value).toBe('users/42/messages');
    expect(tableRows()).toHaveLength(before);
  });

  it('says why it cannot subscribe while Graph is not connected', async () => {
    await openSubscriptions(new MemoryBackend());
    await subscribe('users/42/messages');
    expect((await screen.findByRole('alert')).textContent).toContain('Hookscope is not connected to Graph');
    expect(document.getElementById('subscriptions')).toBeNull();
  });

  it('renews a row to the maximum, and deletes it only after a confirm', async () => {
    const backend = await connected();
    await openSubscriptions(backend);
    await subscribe('users/42/messages', '2h');
    await waitFor(() => expect(countdownOf(rowFor('users/42/messages'))).toMatch(/^(1h 59m|2h 00m)$/));

    await fireEvent.click(rowFor('users/42/messages')!.querySelector<HTMLButtonElement>('button.renew')!);
    await waitFor(() => expect(countdownOf(rowFor('users/42/messages'))).toMatch(/^6d 22h/));

    const del = () => rowFor('users/42/messages')!.querySelector<HTMLButtonElement>('button.delete')!;
    await waitFor(() => expect(del().disabled).toBe(false)); // the row's buttons wait for the renewal
    await fireEvent.click(del());
    expect(del().textContent?.trim()).toBe('Confirm delete');
    expect(rowFor('users/42/messages')!.dataset.status).toBe('active');
    await fireEvent.click(del());
    await waitFor(() => expect(rowFor('users/42/messages')!.dataset.status).toBe('removed'));
    const removed = rowFor('users/42/messages')!;
    expect(removed.querySelector('.badge')?.textContent).toBe('removed');
    expect(removed.classList.contains('ended')).toBe(true);
    expect(removed.querySelector('button')).toBeNull();
    expect(removed.querySelector('.renews')?.textContent).toBe('—');
    // Ended rows go below the active ones, though this one is newer.
    expect(tableRows().map((r) => r.dataset.status)).toEqual(['active', 'removed']);
  });

  it('shows a failed renewal in the row', async () => {
    const backend = await connected();
    backend.renew = async () => {
      throw new Error('Graph refused the renewal: the app lost Mail.Read.');
    };
    await openSubscriptions(backend);
    const row = await waitFor(() => rowFor("/me/mailFolders('inbox')/messages")!);
    expect(row.querySelector('.last-error')?.textContent?.trim()).toBe('—');
    await fireEvent.click(row.querySelector<HTMLButtonElement>('button.renew')!);
    await waitFor(() =>
      expect(within(row).getByRole('alert').textContent).toBe('Graph refused the renewal: the app lost Mail.Read.'),
    );
  });

  it('lists what the keeper did as it happens, and refreshes the table', async () => {
    const backend = await connected();
    await openSubscriptions(backend);
    expect(document.getElementById('keeper-empty')).not.toBeNull();
    const id = backend.kept[0].id;
    expect(countdownOf(rowFor("/me/mailFolders('inbox')/messages"))).toMatch(/^(59m|1h 00m)/);

    // The keeper renews behind the UI's back: the store changes, then its event arrives in a feed batch.
    const base = Date.now();
    const at = (ms: number) => new Date(base + ms).toISOString();
    backend.kept[0].expirationDateTime = at(3 * 86400_000);
    backend.keep(keeperEvent({ id: 'k1', subscriptionId: id, at: at(0), message: 'Renewed on schedule; it now expires in three days.' }));
    await waitFor(() => expect(activity()).toHaveLength(1));
    const [renewed] = activity();
    expect(renewed.querySelector('.action')?.textContent).toBe('renewed');
    expect(renewed.querySelector('.outcome')?.textContent).toBe('ok');
    expect(renewed.querySelector('.message')?.textContent).toBe('Renewed on schedule; it now expires in three days.');
    // Read against the last one-second tick, three days may still show as 3d 0h 00m.
    await waitFor(() => expect(countdownOf(rowFor("/me/mailFolders('inbox')/messages"))).toMatch(/^(3d 0h 00m|2d 23h 59m)$/));

    // A batch's events show even before keeper_history has them, newest on top.
    backend.emit({
      keeper: [
        keeperEvent({ id: 'k2', subscriptionId: id, at: at(-10_000), action: 'gap', ok: true, message: 'Notifications may have been missed.' }),
        keeperEvent({ id: 'k3', subscriptionId: id, at: at(1000), action: 'recreated', ok: false, message: 'Graph refused the new subscription.' }),
      ],
    });
    await waitFor(() => expect(activity()).toHaveLength(3));
    expect(activity().map((e) => e.querySelector('.action')?.textContent)).toEqual(['recreated', 'renewed', 'gap']);
    expect(activity()[0].querySelector('.outcome')?.textContent).toBe('failed');
  });

  it('keeps the keeper activity to the latest twenty', async () => {
    const backend = await connected();
    const start = Date.now() - 60_000;
    for (let i = 0; i < 25; i++) {
      backend.history.unshift(
        keeperEvent({ id: `h${i}`, subscriptionId: 'x', at: new Date(start + i * 1000).toISOString(), message: `event ${i}` }),
      );
    }
    await openSubscriptions(backend);
    await waitFor(() => expect(activity()).toHaveLength(20));
    expect(activity()[0].querySelector('.message')?.textContent).toBe('event 24');
  });

  it('checks Graph for orphans and deletes one there after a confirm', async () => {
    const backend = await connected();
    const orphan: Subscription = {
      ...(await backend.subscriptions())[0],
      id: '0d1e2f30-4a5b-4c6d-8e7f-8091a2b3c4d5',
      resource: 'users/someone/events',
      autoRenew: false,
    };
    backend.orphans.push(orphan);
    await openSubscriptions(backend);
    expect(document.getElementById('remote-subscriptions')).toBeNull();

    await fireEvent.click(screen.getByRole('button', { name: 'Check Graph' }));
    await waitFor(() => expect(document.querySelectorAll('#remote-subscriptions .remote-row')).toHaveLength(2));
    expect(summary()).toBe('Graph holds 2 subscriptions; 1 unknown here (orphan).');
    const orphanRow = document.querySelector<HTMLElement>(`.remote-row[data-id="${orphan.id}"]`)!;
    expect(orphanRow.classList.contains('orphan')).toBe(true);
    expect(orphanRow.textContent).toContain('users/someone/events');
    const known = document.querySelector<HTMLElement>('.remote-row:not(.orphan)')!;
    expect(known.querySelector('button')).toBeNull();

    const button = () => document.querySelector<HTMLButtonElement>(`.remote-row[data-id="${orphan.id}"] button.delete-remote`)!;
    expect(button().textContent?.trim()).toBe('Delete at Graph');
    await fireEvent.click(button());
    expect(backend.orphans).toHaveLength(1);
    expect(button().textContent?.trim()).toBe('Confirm delete at Graph');
    await fireEvent.click(button());
    await waitFor(() => expect(document.querySelector(`.remote-row[data-id="${orphan.id}"]`)).toBeNull());
    expect(summary()).toBe('Graph holds 1 subscription; all are known here.');
  });

  it('says why Graph cannot be checked while it is not connected', async () => {
    await openSubscriptions(new MemoryBackend());
    await fireEvent.click(screen.getByRole('button', { name: 'Check Graph' }));
    const alert = await screen.findByRole('alert');
    expect(alert.id).toBe('remote-error');
    expect(alert.textContent).toContain('Hookscope is not connected to Graph');
  });
});
