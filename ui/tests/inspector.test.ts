// The inspector: a row opens it, each check shows its verdict, rich items show ciphertext beside the
// plaintext, the raw request and the answer are there, and hostile payloads stay text.
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import { MemoryBackend } from '../src/lib/backend/memory';
import type { Inspection } from '../src/lib/bindings';
import { checks, encrypted, pretty, rawRequest } from '../src/lib/inspector/view';
import { note } from './fixtures';

afterEach(() => cleanup());

const row = (id: string) => document.querySelector<HTMLElement>(`#feed .notification-row[data-id="${id}"]`);
const inspector = () => document.getElementById('inspector');

const richItem = JSON.stringify({
  subscriptionId: 'sub-1',
  changeType: 'created',
  resource: "chats('19:abc')/messages('1616990032035')",
  encryptedContent: {
    data: 'q8Jm2Vt0Fzp6R6qSpVw0sQ==',
    dataSignature: 'Fq6bxRqrZ2Y0Y5VbJ0xHcZ3U6o5oVbdW3pU1jmQvS8k=',
    dataKey: 'cFZ0d3Vy',
    encryptionCertificateId: 'hookscope-2026-12-01-ab12cd34',
    encryptionCertificateThumbprint: '4B95353E086AD37196606ACF834A14532F03E6DB',
  },
});

function richInspection(fields: Partial<Inspection['notification']> = {}): Inspection {
  const n = note(7, { tokensValid: true, decrypted: { body: { content: 'Hello World' }, etag: '1625126194597' }, ...fields });
  return {
    notification: n,
    item: richItem,
    request: {
      id: n.requestId,
      receivedAt: n.receivedAt,
      method: 'POST',
      path: '/notifications',
      query: null,
      headers: { 'content-type': 'application/json', authorization: '(redacted)' },
      body: `{"value":[${richItem}],"validationTokens":["eyJ0eXAi..."]}`,
      bodySize: 400,
      bodyTruncated: false,
      kind: 'notifications',
      status: 202,
      response: '',
      latencyMs: 2.25,
      replayOf: null,
    },
    relays: [],
    replayHeaders: { 'content-type': 'application/json' },
  };
}

describe('inspector view', () => {
  it('derives each check and its verdict', () => {
    const good = checks(richInspection());
    expect(good.map((c) => [c.id, c.state])).toEqual([
      ['verdict', 'passed'],
      ['tokens', 'passed'],
      ['decryption', 'passed'],
    ]);
    const forged = checks(
      richInspection({ verdict: 'rejected', reason: 'Validation token 1 of 1: its signature does not verify.', tokensValid: false, decrypted: null }),
    );
    expect(forged.map((c) => [c.id, c.state])).toEqual([
      ['verdict', 'failed'],
      ['tokens', 'failed'],
      ['decryption', 'failed'],
    ]);
    expect(forged[0].detail).toContain('signature does not verify');
    const unvouched = checks(richInspection({ verdict: 'rejected', reason: 'Graph sent validationTokens: null…', tokensValid: null, decrypted: null }));
    expect(unvouched.find((c) => c.id === 'tokens')?.state).toBe('failed');
    const plain = checks({ ...richInspection({ tokensValid: null, decrypted: null, duplicate: true }), item: '{"changeType":"created"}' });
    expect(plain.map((c) => [c.id, c.state])).toEqual([
      ['verdict', 'passed'],
      ['tokens', 'absent'],
      ['decryption', 'absent'],
      ['duplicate', 'failed'],
    ]);
  });

  it('reads the encrypted content, pretty-prints JSON and keeps non-JSON as text', () => {
    expect(encrypted(richInspection())?.certificateId).toBe('hookscope-2026-12-01-ab12cd34');
    expect(encrypted({ ...richInspection(), item: 'not json' })).toBeNull();
    expect(pretty('{"a":1}')).toBe('{\n  "a": 1\n}');
    expect(pretty('not json')).toBe('not json');
    const raw = rawRequest(richInspection().request!);
    expect(raw.split('\n')[0]).toBe('POST /notifications HTTP/1.1');
    expect(raw).toContain('content-type: application/json');
    expect(raw).toContain('\n\n{"value":[');
  });
});

describe('inspector in the app', () => {
  it('opens on a click, shows ciphertext beside plaintext and the answer, and closes on Escape', async () => {
    const inspection = richInspection();
    const backend = new MemoryBackend({ notifications: [inspection.notification] });
    backend.inspections.set(inspection.notification.id, inspection);
    render(App, { props: { backend } });
    await waitFor(() => expect(row(inspection.notification.id)).not.toBeNull());
    await fireEvent.click(row(inspection.notification.id)!);
    await waitFor(() => expect(inspector()).not.toBeNull());
    expect(row(inspection.notification.id)!.getAttribute('aria-pressed')).toBe('true');
    const state = (id: string) => inspector()!.querySelector<HTMLElement>(`[data-check="${id}"]`)?.dataset.state;
    expect(state('tokens')).toBe('passed');
    expect(state('decryption')).toBe('passed');
    expect(inspector()!.querySelector('[data-testid="ciphertext"]')?.textContent).toBe('q8Jm2Vt0Fzp6R6qSpVw0sQ==');
    expect(inspector()!.querySelector('[data-testid="plaintext"]')?.textContent).toContain('"content": "Hello World"');
    expect(inspector()!.querySelector('[data-testid="raw-request"]')?.textContent).toContain('POST /notifications HTTP/1.1');
    expect(inspector()!.querySelector('[data-testid="answer"]')?.textContent).toContain('202');
    expect(inspector()!.querySelector('[data-testid="answer"]')?.textContent).toContain('2.25 ms');
    await fireEvent.keyDown(window, { key: 'Escape' });
    await waitFor(() => expect(inspector()).toBeNull());
  });

  it('opens from the keyboard, and shows hostile payloads as text wherever they appear', async () => {
    // A Teams message body is HTML by nature: it must show as its source text, never as markup.
    const evil = '<img src=x onerror="alert(1)"><a href="javascript:alert(2)">click</a>';
    const inspection = richInspection({ resource: evil, decrypted: { body: { contentType: 'html', content: evil } } });
    inspection.item = JSON.stringify({ ...JSON.parse(richItem), resource: evil });
    inspection.notification = { ...inspection.notification, id: note(8).id };
    const backend = new MemoryBackend({ notifications: [inspection.notification] });
    backend.inspections.set(inspection.notification.id, inspection);
    render(App, { props: { backend } });
    await waitFor(() => expect(row(inspection.notification.id)).not.toBeNull());
    await fireEvent.keyDown(row(inspection.notification.id)!, { key: 'Enter' });
    await waitFor(() => expect(inspector()).not.toBeNull());
    expect(inspector()!.querySelector('img, a[href^="javascript"]')).toBeNull();
    const plaintext = inspector()!.querySelector('[data-testid="plaintext"]')!;
    // The tree draws its own elements; none of them came from the payload's markup.
    expect(plaintext.querySelector('img, a, script, [onerror]')).toBeNull();
    expect(plaintext.textContent).toContain('<img src=x onerror=');
    expect(inspector()!.querySelector('[data-testid="item"]')!.textContent).toContain('javascript:alert(2)');
    expect(row(inspection.notification.id)!.querySelector('img')).toBeNull();
  });

  it('shows the row clicked last, even when an earlier answer comes late', async () => {
    const [a, b] = [note(10), note(11)];
    const backend = new MemoryBackend({ notifications: [a, b] });
    const slow = backend.inspect.bind(backend);
    backend.inspect = async (id: string) => {
      if (id === a.id) await new Promise((r) => setTimeout(r, 80));
      return slow(id);
    };
    render(App, { props: { backend } });
    await waitFor(() => expect(row(b.id)).not.toBeNull());
    await fireEvent.click(row(a.id)!);
    await fireEvent.click(row(b.id)!);
    await waitFor(() => expect(inspector()?.dataset.id).toBe(b.id));
    await new Promise((r) => setTimeout(r, 120));
    expect(inspector()?.dataset.id).toBe(b.id);
  });

  it('says why when a notification cannot be loaded', async () => {
    const n = note(9);
    const backend = new MemoryBackend({ notifications: [n] });
    render(App, { props: { backend } });
    await waitFor(() => expect(row(n.id)).not.toBeNull());
    backend.stored = [];
    await fireEvent.click(row(n.id)!);
    await waitFor(() => expect(document.querySelector('[role="alert"]')?.textContent).toContain('is not stored here'));
    expect(inspector()).toBeNull();
  });
});

describe('relay and replay in the inspector', () => {
  it("shows what the user's app answered, with Graph's rules as warnings", async () => {
    const inspection = richInspection();
    inspection.relays = [
      {
        id: 'r1',
        requestId: inspection.notification.requestId,
        target: 'http://localhost:3000/api/graph',
        at: inspection.notification.receivedAt,
        handshake: false,
        filtered: true,
        status: 200,
        headers: {},
        body: 'ok from the app',
        bodyTruncated: false,
        latencyMs: 5012.4,
        error: null,
        warning: 'Your app took 5.0 s: Graph gives a receiver 3 s, …',
      },
    ];
    const backend = new MemoryBackend({ notifications: [inspection.notification] });
    backend.inspections.set(inspection.notification.id, inspection);
    render(App, { props: { backend } });
    await waitFor(() => expect(row(inspection.notification.id)).not.toBeNull());
    await fireEvent.click(row(inspection.notification.id)!);
    const relays = await waitFor(() => {
      const found = inspector()?.querySelector<HTMLElement>('[data-testid="relays"]');
      expect(found).toBeTruthy();
      return found!;
    });
    expect(relays.textContent).toContain('http://localhost:3000/api/graph');
    expect(relays.textContent).toContain('5012.4 ms');
    expect(relays.textContent).toContain('left out');
    expect(relays.textContent).toContain('ok from the app');
    expect(relays.querySelector('[data-testid="relay-warning"]')?.textContent).toContain('3 s');
  });

  it('replays as it was, or with an edited body, and the copy lands in the feed marked', async () => {
    const n = note(12);
    const backend = new MemoryBackend({ notifications: [n] });
    render(App, { props: { backend } });
    await waitFor(() => expect(row(n.id)).not.toBeNull());
    await fireEvent.click(row(n.id)!);
    await waitFor(() => expect(inspector()).not.toBeNull());
    await fireEvent.click(inspector()!.querySelector('[data-action="replay"]')!);
    await waitFor(() => expect(inspector()!.querySelector('[data-testid="replay-result"]')?.textContent).toContain('answered 202'));
    expect(backend.replays[0]).toEqual({ id: n.requestId, target: { kind: 'receiver' }, edits: { body: null, headers: {} } });
    await waitFor(() => expect(document.querySelectorAll('#feed .badge.replayed')).toHaveLength(1));

    await fireEvent.click(inspector()!.querySelector('[data-action="edit"]')!);
    const body = inspector()!.querySelector<HTMLTextAreaElement>('[data-testid="replay-body"]')!;
    expect(body.value).toContain('"value"');
    await fireEvent.input(body, { target: { value: '{"value":[]}' } });
    await fireEvent.click(inspector()!.querySelector('[data-action="send-edited"]')!);
    await waitFor(() => expect(inspector()!.querySelector('[data-testid="replay-result"]')?.textContent).toContain('with edits'));
    expect(backend.replays[1].edits).toEqual({ body: '{"value":[]}', headers: {} });

    // Headers: one changed, one added, one dropped; the rest go as they were.
    await fireEvent.click(inspector()!.querySelector('[data-action="edit"]')!);
    const headers = inspector()!.querySelector<HTMLTextAreaElement>('[data-testid="replay-headers"]')!;
    expect(headers.value).toBe('content-type: application/json; charset=utf-8\nuser-agent: Microsoft-Graph-Change-Notifications');
    await fireEvent.input(headers, { target: { value: 'content-type: text/plain\nX-Trace: replay-1' } });
    await fireEvent.click(inspector()!.querySelector('[data-action="send-edited"]')!);
    await waitFor(() => expect(backend.replays).toHaveLength(3));
    expect(backend.replays[2].edits.headers).toEqual({ 'content-type': 'text/plain', 'X-Trace': 'replay-1', 'user-agent': '' });

    // A line that is not a header is refused in place, and nothing is sent.
    await fireEvent.click(inspector()!.querySelector('[data-action="edit"]')!);
    await fireEvent.input(inspector()!.querySelector('[data-testid="replay-headers"]')!, { target: { value: 'content-type text/plain' } });
    await fireEvent.click(inspector()!.querySelector('[data-action="send-edited"]')!);
    await waitFor(() => expect(inspector()!.querySelector('[data-testid="replay-result"]')?.textContent).toBe('Header line 1 is not "Name: value": content-type text/plain'));
    expect(backend.replays).toHaveLength(3);
  });

  it('fetches the current resource from Graph with $select, and says why when it is gone', async () => {
    const live = note(30, { resource: 'Users/u1/Messages/m1' });
    const gone = note(31, { resource: 'Users/u1/Messages/m2', changeType: 'deleted' });
    const lifecycle = note(32, { changeType: null, lifecycleEvent: 'missed', resource: null });
    const backend = new MemoryBackend({ notifications: [live, gone, lifecycle] });
    backend.goneAtGraph.add('Users/u1/Messages/m2');
    render(App, { props: { backend } });
    await waitFor(() => expect(row(live.id)).not.toBeNull());

    // Not signed in: the sentence says so, and what to do.
    await fireEvent.click(row(live.id)!);
    await waitFor(() => expect(inspector()?.querySelector('[data-action="fetch-current"]')).toBeTruthy());
    await fireEvent.click(inspector()!.querySelector('[data-action="fetch-current"]')!);
    await waitFor(() => expect(inspector()!.querySelector('[data-testid="current-error"]')?.textContent).toContain('not connected to Graph'));

    await backend.tryWithoutTenant();
    await fireEvent.input(inspector()!.querySelector('#current-select')!, { target: { value: 'subject' } });
    await fireEvent.click(inspector()!.querySelector('[data-action="fetch-current"]')!);
    await waitFor(() => expect(inspector()!.querySelector('[data-testid="current-url"]')?.textContent).toContain('/v1.0/Users/u1/Messages/m1?$select=subject'));
    expect(backend.fetches.at(-1)).toEqual({ id: live.id, select: 'subject' });
    const body = inspector()!.querySelector('[data-testid="current-body"]')!.textContent!;
    expect(body).toContain('"subject": "Simulated message"');
    expect(body).not.toContain('isRead');
    expect(inspector()!.querySelector('[data-testid="current-error"]')).toBeNull();

    await fireEvent.click(row(gone.id)!);
    await waitFor(() => expect(inspector()?.dataset.id).toBe(gone.id));
    expect(inspector()!.querySelector('[data-testid="current-body"]'), 'a new item starts empty').toBeNull();
    await fireEvent.click(inspector()!.querySelector('[data-action="fetch-current"]')!);
    await waitFor(() => expect(inspector()!.querySelector('[data-testid="current-error"]')?.textContent).toContain('; it was deleted or moved after the notification'));

    // A lifecycle event names no resource: no fetch is offered.
    await fireEvent.click(row(lifecycle.id)!);
    await waitFor(() => expect(inspector()?.dataset.id).toBe(lifecycle.id));
    expect(inspector()!.querySelector('[data-testid="current-resource"]')).toBeNull();
  });

  it('offers no fetch for a rejected notification: its resource is whatever the sender wrote', async () => {
    const accepted = note(40, { resource: 'Users/u1/Messages/m1' });
    const forged = note(41, {
      resource: 'Users/victim/Messages/secret',
      verdict: 'rejected',
      reason: "The clientState does not match the subscription's: the item may be forged.",
    });
    const backend = new MemoryBackend({ notifications: [accepted, forged] });
    await backend.tryWithoutTenant();
    render(App, { props: { backend } });
    await waitFor(() => expect(row(forged.id)).not.toBeNull());

    await fireEvent.click(row(forged.id)!);
    await waitFor(() => expect(inspector()?.dataset.id).toBe(forged.id));
    expect(inspector()!.querySelector('[data-action="fetch-current"]')).toBeNull();
    expect(inspector()!.querySelector('#current-select')).toBeNull();
    expect(inspector()!.querySelector('[data-testid="current-refused"]')?.textContent).toBe(
      'Hookscope fetches resources only for accepted notifications; this one was rejected.',
    );
    expect(backend.fetches).toEqual([]);
    // The backend refuses too, with the engine's sentence, should anything call it.
    await expect(backend.fetchCurrentResource(forged.id, '')).rejects.toThrow(
      `Notification ${forged.id} was rejected (The clientState does not match the subscription's: the item may be forged); Hookscope fetches resources only for accepted notifications.`,
    );

    // Positive control: the accepted one still offers the fetch, and it goes through.
    await fireEvent.click(row(accepted.id)!);
    await waitFor(() => expect(inspector()?.dataset.id).toBe(accepted.id));
    expect(inspector()!.querySelector('[data-testid="current-refused"]')).toBeNull();
    await fireEvent.click(inspector()!.querySelector('[data-action="fetch-current"]')!);
    await waitFor(() => expect(inspector()!.querySelector('[data-testid="current-url"]')?.textContent).toContain('/v1.0/Users/u1/Messages/m1'));
    expect(backend.fetches.filter((f) => f.id === accepted.id)).toHaveLength(1);
  });

  it('copies the item as JSON and the request as a cURL command aimed at the receiver', async () => {
    const n = note(22, { resource: 'Users/1/Messages/copy-me' });
    const backend = new MemoryBackend({ notifications: [n] });
    render(App, { props: { backend } });
    await waitFor(() => expect(row(n.id)).not.toBeNull());
    await fireEvent.click(row(n.id)!);
    await waitFor(() => expect(inspector()).not.toBeNull());
    await fireEvent.click(screen.getByRole('button', { name: 'Copy JSON' }));
    await waitFor(() => expect(backend.copied).toHaveLength(1));
    expect(JSON.parse(backend.copied[0]).resource).toBe('Users/1/Messages/copy-me');
    await fireEvent.click(screen.getByRole('button', { name: 'Copy as cURL' }));
    await waitFor(() => expect(backend.copied).toHaveLength(2));
    expect(backend.copied[1]).toMatch(/^curl -X 'POST' 'http:\/\/127\.0\.0\.1:7878\/notifications' /);
    expect(backend.copied[1]).toContain("--data-raw '{\"value\":[");
  });

  it('opens the notification a clicked toast was about, from any tab', async () => {
    const n = note(21, { resource: 'Users/1/Messages/toast-me' });
    const backend = new MemoryBackend({ notifications: [n, note(20)] });
    render(App, { props: { backend } });
    await waitFor(() => expect(row(n.id)).not.toBeNull());
    await fireEvent.click(screen.getByRole('tab', { name: 'Settings' }));
    backend.clickToast(n.id);
    await waitFor(() => expect(inspector()?.dataset.id).toBe(n.id));
    expect(screen.getByRole('tab', { name: 'Live feed' }).getAttribute('aria-selected')).toBe('true');
    expect(inspector()!.textContent).toContain('Users/1/Messages/toast-me');
  });

  it('sends a delivery to the forward target from the settings, as it was or edited', async () => {
    const n = note(13);
    const app = 'http://localhost:3000/api/notifications';
    const backend = new MemoryBackend({ notifications: [n] });
    render(App, { props: { backend } });
    await waitFor(() => expect(row(n.id)).not.toBeNull());
    await fireEvent.click(row(n.id)!);
    await waitFor(() => expect(inspector()).not.toBeNull());
    expect(inspector()!.querySelector('[data-action="replay-app"]'), 'no target, no button').toBeNull();

    backend.setStatus({ ...backend.status, forwardTo: app });
    await waitFor(() => expect(inspector()!.querySelector('[data-action="replay-app"]')).not.toBeNull());
    await fireEvent.click(inspector()!.querySelector('[data-action="replay-app"]')!);
    await waitFor(() => expect(inspector()!.querySelector('[data-testid="replay-result"]')?.textContent).toContain(`Sent to ${app}`));
    expect(backend.replays[0].target).toEqual({ kind: 'url', url: app });

    await fireEvent.click(inspector()!.querySelector('[data-action="edit"]')!);
    await fireEvent.input(inspector()!.querySelector('[data-testid="replay-body"]')!, { target: { value: '{}' } });
    await fireEvent.click(inspector()!.querySelector('[data-action="send-edited-app"]')!);
    await waitFor(() => expect(inspector()!.querySelector('[data-testid="replay-result"]')?.textContent).toContain('Sent with edits'));
    expect(backend.replays[1]).toEqual({ id: n.requestId, target: { kind: 'url', url: app }, edits: { body: '{}', headers: {} } });
  });
});
