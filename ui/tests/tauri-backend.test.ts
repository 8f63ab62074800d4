// The Tauri backend against mocked IPC: the exact command names and argument shapes the Rust side
// implements, and feed batches arriving through a real `Channel`.
import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBackend, MemoryBackend } from '../src/lib/backend';
import type { FeedBatch } from '../src/lib/bindings';
import { createTauriBackend } from '../src/lib/backend/tauri';
import { note } from './fixtures';

afterEach(() => {
  clearMocks();
  vi.useRealTimers();
});

describe('createBackend', () => {
  it('uses the in-memory fake outside Tauri', () => {
    vi.useFakeTimers(); // the fake starts a demo timer
    expect('__TAURI_INTERNALS__' in window).toBe(false);
    expect(createBackend()).toBeInstanceOf(MemoryBackend);
  });

  it('uses Tauri when __TAURI_INTERNALS__ exists', () => {
    mockIPC(() => null);
    expect(createBackend()).not.toBeInstanceOf(MemoryBackend);
  });
});

describe('Tauri backend', () => {
  it('calls receiver_status and notifications_page with the agreed arguments', async () => {
    const calls: Array<[string, unknown]> = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === 'receiver_status') return { urls: null, error: 'boom', dataDir: '/d' };
      if (cmd === 'notifications_page') return { items: [note(1)], next: null };
    });
    const backend = createTauriBackend();
    expect(await backend.receiverStatus()).toEqual({ urls: null, error: 'boom', dataDir: '/d' });
    expect((await backend.notificationsPage(200, null)).items[0].id).toBe(note(1).id);
    await backend.notificationsPage(50, note(9).id, { verdict: 'rejected' });
    await backend.notificationsPage(100, null, {}, note(3).id);
    expect(calls).toEqual([
      ['receiver_status', {}],
      ['notifications_page', { limit: 200, before: null, filter: null, after: null }],
      ['notifications_page', { limit: 50, before: note(9).id, filter: { verdict: 'rejected' }, after: null }],
      ['notifications_page', { limit: 100, before: null, filter: {}, after: note(3).id }],
    ]);
  });

  it('calls replay_delivery with the id, the target and the edits', async () => {
    const calls: Array<[string, unknown]> = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return { originalRequestId: 'r', url: 'u', status: 202, body: '', latencyMs: 1, requestId: 'n', edited: true };
    });
    const edits = { body: '{}', headers: { 'x-a': 'b' } };
    expect((await createTauriBackend().replay('r', { kind: 'url', url: 'http://localhost:3000' }, edits)).status).toBe(202);
    expect(calls).toEqual([['replay_delivery', { id: 'r', target: { kind: 'url', url: 'http://localhost:3000' }, edits }]]);
  });

  it('calls doctor without arguments', async () => {
    const calls: Array<[string, unknown]> = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return [{ name: 'receiver', health: 'ok', detail: 'd', fix: null }];
    });
    expect((await createTauriBackend().doctor())[0].health).toBe('ok');
    expect(calls).toEqual([['doctor', {}]]);
  });

  it('calls inspect_notification with the id', async () => {
    const calls: Array<[string, unknown]> = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return { notification: note(3), item: '{}', request: null, relays: [], replayHeaders: {} };
    });
    const inspection = await createTauriBackend().inspect(note(3).id);
    expect(inspection.notification.id).toBe(note(3).id);
    expect(calls).toEqual([['inspect_notification', { id: note(3).id }]]);
  });

  it('calls try_without_tenant and sandbox_send with the agreed arguments', async () => {
    const calls: Array<[string, unknown]> = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === 'try_without_tenant') return { graphUrl: 'http://127.0.0.1:1', subscriptionId: 's', resource: 'r', expirationDateTime: 'e' };
      if (cmd === 'sandbox_send') return { notifications: 1, subscriptionIds: ['s'], deliveries: [] };
    });
    const backend = createTauriBackend();
    expect((await backend.tryWithoutTenant()).subscriptionId).toBe('s');
    expect((await backend.sandboxSend('forged')).notifications).toBe(1);
    expect(calls).toEqual([
      ['try_without_tenant', {}],
      ['sandbox_send', { what: 'forged' }],
    ]);
  });

  it('calls the subscription commands with the agreed arguments', async () => {
    const calls: Array<[string, unknown]> = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === 'graph_status') return { connected: false, graphUrl: null, tenantId: null, clientId: null, simulated: false, message: 'no' };
      if (cmd === 'catalog' || cmd === 'subscriptions_list' || cmd === 'remote_subscriptions' || cmd === 'keeper_history') return [];
      if (cmd === 'subscribe' || cmd === 'renew_subscription') return { id: 's1' };
      if (cmd === 'delete_subscription') return null;
    });
    const backend = createTauriBackend();
    const input = { resource: 'users', changeTypes: 'updated', expiresIn: '3d', rich: false, lifecycle: true, autoRenew: true };
    expect((await backend.graphStatus()).message).toBe('no');
    await backend.catalog();
    await backend.subscriptions();
    expect((await backend.subscribe(input)).id).toBe('s1');
    await backend.renew('s1', 'max');
    await backend.deleteSubscription('s1');
    await backend.remoteSubscriptions();
    await backend.keeperHistory(null);
    await backend.keeperHistory('s1');
    expect(calls).toEqual([
      ['graph_status', {}],
      ['catalog', {}],
      ['subscriptions_list', {}],
      ['subscribe', { input }],
      ['renew_subscription', { id: 's1', expiresIn: 'max' }],
      ['delete_subscription', { id: 's1' }],
      ['remote_subscriptions', {}],
      ['keeper_history', { subscriptionId: null }],
      ['keeper_history', { subscriptionId: 's1' }],
    ]);
  });

  it('rejects with the sentence the command returned', async () => {
    mockIPC(() => {
      throw 'message subscriptions live at most 7d (10080 minutes); ask for less or use max.';
    });
    await expect(createTauriBackend().renew('s1', '9d')).rejects.toBe(
      'message subscriptions live at most 7d (10080 minutes); ask for less or use max.',
    );
  });

  it('passes a Channel to watch_feed and delivers its messages until unwatched', async () => {
    let channelId: number | undefined;
    mockIPC((cmd, args) => {
      if (cmd === 'watch_feed') channelId = (args as { channel: { id: number } }).channel.id;
    });
    const received: FeedBatch[] = [];
    const unwatch = await createTauriBackend().watchFeed((batch) => received.push(batch));
    expect(channelId).toEqual(expect.any(Number));

    const send = (index: number, message: FeedBatch) =>
      window.__TAURI_INTERNALS__.runCallback(channelId!, { index, message });
    const batch: FeedBatch = { notifications: [note(1)], keeper: [], missed: 0 };
    send(0, batch);
    expect(received).toEqual([batch]);

    unwatch();
    send(1, { notifications: [note(2)], keeper: [], missed: 0 });
    expect(received).toHaveLength(1);
  });

  it('calls the settings and sign-in commands with the agreed arguments', async () => {
    const calls: Array<[string, unknown]> = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return null;
    });
    const backend = createTauriBackend();
    const settings = {
      port: 0,
      tunnel: 'ngrok' as const,
      publicUrl: null,
      ngrokDomain: null,
      forwardTo: null,
      forwardHandshake: false,
      toasts: { enabled: true, muted: [] },
      theme: 'dark' as const,
      retentionDays: 30,
    };
    await backend.settings();
    await backend.saveSettings({ settings, ngrokAuthtoken: 'tok', forgetNgrokAuthtoken: false });
    await backend.signInApp('t', 'c', 's');
    await backend.startDeviceSignIn('t', 'c', null, 'usgov');
    await backend.openSignInPage();
    await backend.finishDeviceSignIn();
    await backend.signOut();
    await backend.exportNotifications('har', { verdict: 'rejected' });
    await backend.fetchCurrentResource('n-1', 'subject,from');
    expect(calls).toEqual([
      ['settings_get', {}],
      ['settings_save', { change: { settings, ngrokAuthtoken: 'tok', forgetNgrokAuthtoken: false } }],
      ['sign_in_app', { tenant: 't', clientId: 'c', secret: 's', cloud: null }],
      ['start_device_sign_in', { tenant: 't', clientId: 'c', scopes: null, cloud: 'usgov' }],
      ['open_sign_in_page', {}],
      ['finish_device_sign_in', {}],
      ['sign_out', {}],
      ['export_notifications', { format: 'har', filter: { verdict: 'rejected' } }],
      ['fetch_current_resource', { id: 'n-1', select: 'subject,from' }],
    ]);
  });

  it('hears a clicked toast through the open-notification event', async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const opened: string[] = [];
    const unwatch = await createTauriBackend().onOpenNotification((id) => opened.push(id));
    await emit('open-notification', 'n-1');
    expect(opened).toEqual(['n-1']);
    unwatch();
    await emit('open-notification', 'n-2');
    expect(opened).toEqual(['n-1']);
  });

  it('passes a Channel to watch_status and delivers each status until unwatched', async () => {
    let channelId: number | undefined;
    mockIPC((cmd, args) => {
      if (cmd === 'watch_status') channelId = (args as { channel: { id: number } }).channel.id;
    });
    const seen: unknown[] = [];
    const unwatch = await createTauriBackend().watchStatus((status) => seen.push(status));
    const status = { urls: null, error: null, dataDir: '/d', tunnel: { state: 'connecting' }, forwardTo: null };
    window.__TAURI_INTERNALS__.runCallback(channelId!, { index: 0, message: status });
    expect(seen).toEqual([status]);
    unwatch();
    window.__TAURI_INTERNALS__.runCallback(channelId!, { index: 1, message: status });
    expect(seen).toHaveLength(1);
  });
});

declare global {
  interface Window {
    __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void };
  }
}
