import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import { DEMO_STATUS, MemoryBackend } from '../src/lib/backend/memory';
import { note } from './fixtures';

afterEach(() => cleanup());

const feedRows = () => Array.from(document.querySelectorAll<HTMLElement>('#feed .notification-row'));
const row = (id: string) => document.querySelector<HTMLElement>(`#feed .notification-row[data-id="${id}"]`);

// The real frame scheduler (requestAnimationFrame) is used throughout.
function mount(backend: MemoryBackend) {
  return render(App, { props: { backend } });
}

describe('App', () => {
  it('renders the first page, newest first', async () => {
    const backend = new MemoryBackend({
      notifications: [note(1, { changeType: 'created' }), note(2, { changeType: 'updated' }), note(3, { changeType: 'deleted' })],
    });
    mount(backend);
    await waitFor(() => expect(feedRows()).toHaveLength(3));
    expect(feedRows().map((r) => r.dataset.id)).toEqual([note(3).id, note(2).id, note(1).id]);
    expect(feedRows()[0].textContent).toContain('deleted');
  });

  it('shows the receiver URL and copies it', async () => {
    const backend = new MemoryBackend({ notifications: [note(1)] });
    mount(backend);
    await screen.findByText(`Listening on ${DEMO_STATUS.urls!.localUrl}`);
    expect(document.getElementById('notification-url')?.textContent).toBe(DEMO_STATUS.urls!.notificationUrl);
    await fireEvent.click(screen.getByRole('button', { name: 'Copy' }));
    expect(backend.copied).toEqual([DEMO_STATUS.urls!.notificationUrl]);
    await screen.findByRole('button', { name: 'Copied' });
  });

  it('adds a row for a notification pushed through the feed', async () => {
    const backend = new MemoryBackend({ notifications: [note(1)] });
    mount(backend);
    await waitFor(() => expect(feedRows()).toHaveLength(1));
    expect(screen.getByTestId('received-count').textContent).toBe('0');

    const pushed = note(2, {
      changeType: 'updated',
      resource: "Users/4c1d/Events('AAMkAGQ3')",
      subscriptionId: 'abcdef12-3456-7890-abcd-ef1234567890',
      verdict: 'accepted',
      receivedAt: new Date(2026, 2, 4, 9, 5, 7, 42).toISOString(),
    });
    backend.emit({ notifications: [pushed] });

    await waitFor(() => expect(row(pushed.id)).not.toBeNull());
    const added = row(pushed.id)!;
    expect(feedRows()[0]).toBe(added); // newest on top
    expect(added.textContent).toContain('updated');
    expect(added.querySelector('.resource')?.textContent).toBe("Users/4c1d/Events('AAMkAGQ3')");
    expect(added.querySelector('.subscription')?.textContent).toBe('abcdef12');
    expect(added.querySelector('.time')?.textContent).toBe('09:05:07.042');
    expect(added.querySelector('.badge.accepted')?.textContent).toBe('accepted');
    expect(added.querySelector('.badge.rejected')).toBeNull();
    expect(screen.getByTestId('received-count').textContent).toBe('1');
  });

  it('shows a rejected row with its reason, and duplicates', async () => {
    const backend = new MemoryBackend({ notifications: [note(1)] });
    mount(backend);
    await waitFor(() => expect(feedRows()).toHaveLength(1));
    const reason = 'Unknown subscription 1234: Hookscope holds no subscription with this id.';
    backend.emit({
      notifications: [note(2, { verdict: 'rejected', reason }), note(3, { duplicate: true })],
    });
    await waitFor(() => expect(feedRows()).toHaveLength(3));
    const rejected = row(note(2).id)!.querySelector<HTMLElement>('.badge.rejected');
    expect(rejected?.textContent).toBe('rejected');
    expect(rejected?.title).toBe(reason);
    expect(row(note(2).id)!.querySelector('.badge.accepted')).toBeNull();
    expect(row(note(3).id)!.querySelector('.badge.duplicate')?.textContent).toBe('duplicate');
    expect(row(note(1).id)!.querySelector('.badge.duplicate')).toBeNull();
  });

  it('marks decrypted rich items, and batches whose validation tokens failed', async () => {
    const backend = new MemoryBackend();
    mount(backend);
    backend.emit({
      notifications: [
        note(4, { tokensValid: true, decrypted: { id: 'msg-1' } }),
        note(5, { verdict: 'rejected', reason: 'Validation token 1 of 1: its signature does not verify.', tokensValid: false }),
        note(6),
      ],
    });
    await waitFor(() => expect(feedRows()).toHaveLength(3));
    expect(row(note(4).id)!.querySelector('.badge.decrypted')?.textContent).toBe('decrypted');
    expect(row(note(4).id)!.querySelector('.badge.forged')).toBeNull();
    expect(row(note(5).id)!.querySelector('.badge.forged')?.textContent).toBe('tokens invalid');
    expect(row(note(5).id)!.querySelector('.badge.decrypted')).toBeNull();
    expect(row(note(6).id)!.querySelector('.badge.decrypted, .badge.forged')).toBeNull();
  });

  it('renders payload text as text, never as HTML', async () => {
    const backend = new MemoryBackend();
    mount(backend);
    const evil = '<img src=x onerror="alert(1)"><b>bold</b>';
    backend.emit({ notifications: [note(1, { resource: evil, changeType: '<i>x</i>' })] });
    await waitFor(() => expect(feedRows()).toHaveLength(1));
    expect(feedRows()[0].querySelector('.resource')?.textContent).toBe(evil);
    expect(feedRows()[0].querySelector('img, b, i')).toBeNull();
  });

  it('marks lifecycle notifications', async () => {
    const backend = new MemoryBackend({
      notifications: [note(1, { changeType: null, lifecycleEvent: 'missed' }), note(2)],
    });
    mount(backend);
    await waitFor(() => expect(feedRows()).toHaveLength(2));
    expect(row(note(1).id)!.textContent).toContain('lifecycle: missed');
    expect(row(note(1).id)!.classList.contains('lifecycle')).toBe(true);
    expect(row(note(2).id)!.classList.contains('lifecycle')).toBe(false);
  });

  it('reloads the first page when the feed missed events', async () => {
    const backend = new MemoryBackend({ notifications: [note(1)] });
    mount(backend);
    await waitFor(() => expect(feedRows()).toHaveLength(1));
    backend.stored.unshift(note(2, { changeType: 'deleted' })); // stored, never delivered
    backend.emit({ missed: 1 });
    await waitFor(() => expect(row(note(2).id)).not.toBeNull());
    expect(row(note(2).id)!.textContent).toContain('deleted');
  });

  it('keeps only the visible rows in the DOM', async () => {
    const backend = new MemoryBackend();
    mount(backend);
    await screen.findByText('No notifications yet');
    backend.emit({ notifications: Array.from({ length: 3000 }, (_, i) => note(i + 1)) });
    await waitFor(() => expect(screen.getByTestId('received-count').textContent).toBe((3000).toLocaleString()));
    const rendered = feedRows();
    expect(rendered.length).toBeGreaterThan(10);
    expect(rendered.length).toBeLessThan(100);
    expect(rendered[0].dataset.id).toBe(note(3000).id);
  });

  it('shows the receiver error in a banner', async () => {
    const error = 'Port 7878 is already in use: another program is listening on it.';
    const backend = new MemoryBackend({ status: { urls: null, error, dataDir: '/tmp/hookscope', tunnel: null, forwardTo: null } });
    mount(backend);
    const banner = await screen.findByRole('alert');
    expect(banner.textContent).toBe(error);
    expect(screen.queryByText(/Listening on/)).toBeNull();
  });

  it('explains how to send a first notification when there are none', async () => {
    const backend = new MemoryBackend();
    mount(backend);
    await screen.findByText('No notifications yet');
    const curl = `curl -X POST '${DEMO_STATUS.urls!.notificationUrl}?validationToken=hello'`;
    expect(document.getElementById('handshake-curl')?.textContent).toBe(curl);
    expect(screen.queryByRole('alert')).toBeNull();
    const copyButtons = screen.getAllByRole('button', { name: 'Copy' });
    await fireEvent.click(copyButtons[copyButtons.length - 1]);
    expect(backend.copied).toEqual([curl]);

    // The first notification replaces the empty state with the list.
    backend.emit({ notifications: [note(1)] });
    await waitFor(() => expect(feedRows()).toHaveLength(1));
    expect(screen.queryByText('No notifications yet')).toBeNull();
  });
});

describe('Try without a tenant', () => {
  it('starts the simulated Graph from the first screen and sends through it', async () => {
    const backend = new MemoryBackend();
    mount(backend);
    await fireEvent.click(await screen.findByRole('button', { name: 'Try without a tenant' }));
    const bar = await screen.findByRole('region', { name: 'Simulated Graph' });
    expect(bar.textContent).toContain('3b9d2f6e');
    expect(screen.queryByRole('button', { name: 'Try without a tenant' })).toBeNull();

    await fireEvent.click(screen.getByRole('button', { name: 'New message' }));
    await waitFor(() => expect(feedRows()).toHaveLength(1));
    expect(feedRows()[0].querySelector('.badge.accepted')).not.toBeNull();
    expect((await screen.findByTestId('sandbox-result')).textContent).toBe('Sent 1 · answered 202 in 1.2 ms');

    await fireEvent.click(screen.getByRole('button', { name: 'Forged' }));
    await waitFor(() => expect(feedRows()).toHaveLength(2));
    expect(feedRows()[0].querySelector('.badge.rejected')).not.toBeNull();
  });

  it('says why the simulated Graph could not start', async () => {
    const backend = new MemoryBackend();
    backend.tryWithoutTenant = () => Promise.reject(new Error('Cannot listen on 127.0.0.1:0: no ports left.'));
    mount(backend);
    await fireEvent.click(await screen.findByRole('button', { name: 'Try without a tenant' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Could not start the simulated Graph: Cannot listen on 127.0.0.1:0: no ports left.',
    );
  });
});
