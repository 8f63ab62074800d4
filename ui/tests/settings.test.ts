// The Settings tab and the status bar: a tunnel chosen and saved shows in the status bar at once, the
// authtoken goes in once and is never shown again, bad input gets its sentence in place and saves
// nothing, the theme applies, a device-code sign-in shows its code, and muting a subscription is kept.
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import { MemoryBackend } from '../src/lib/backend/memory';

afterEach(() => cleanup());

async function openSettings(backend: MemoryBackend) {
  render(App, { props: { backend, schedule: (run: () => void) => run() } });
  await fireEvent.click(await screen.findByRole('tab', { name: 'Settings' }));
  return screen.findByTestId('settings-form');
}

const field = (form: HTMLElement, name: string) => form.querySelector<HTMLInputElement>(`[name="${name}"]`)!;

describe('Settings', () => {
  it('opens an ngrok tunnel from the form: the token is kept, never shown, and the status bar follows', async () => {
    const backend = new MemoryBackend();
    const form = await openSettings(backend);
    expect(screen.getByTestId('status-tunnel').textContent).toContain('Local only');

    await fireEvent.click(within(form).getByLabelText('ngrok tunnel'));
    expect(screen.getByTestId('no-static-domain').textContent).toContain('static domain');
    await fireEvent.input(field(form, 'ngrok-authtoken'), { target: { value: '2xSecretTokenValue' } });
    await fireEvent.click(within(form).getByRole('button', { name: 'Save settings' }));

    await waitFor(() => expect(screen.getByTestId('status-tunnel').textContent).toContain('Tunnel connecting'));
    await within(form).findByText(/^Saved/);
    expect(backend.ngrokAuthtoken).toBe('2xSecretTokenValue');
    expect(backend.saved.tunnel).toBe('ngrok');
    expect(field(form, 'ngrok-authtoken').value).toBe('');
    expect(field(form, 'ngrok-authtoken').placeholder).toContain('kept in the keyring');
    expect(document.body.textContent).not.toContain('2xSecretTokenValue');

    await fireEvent.input(field(form, 'ngrok-domain'), { target: { value: 'quiet-fox.ngrok-free.app' } });
    expect(screen.queryByTestId('no-static-domain')).toBeNull();
  });

  it('refuses a public URL mode without a URL in place, saving nothing, then shows the URL it saves', async () => {
    const backend = new MemoryBackend();
    const form = await openSettings(backend);
    await fireEvent.click(within(form).getByLabelText('My own public URL'));
    await fireEvent.click(within(form).getByRole('button', { name: 'Save settings' }));
    expect((await within(form).findByRole('alert')).textContent).toContain('Give the public URL');
    expect(backend.saved.tunnel).toBe('none');

    await fireEvent.input(field(form, 'public-url'), { target: { value: 'https://hooks.example.com/' } });
    await fireEvent.input(field(form, 'forward-to'), { target: { value: 'http://localhost:3000/api/notifications' } });
    await fireEvent.click(within(form).getByRole('button', { name: 'Save settings' }));
    await waitFor(() => expect(screen.getByTestId('status-public-url').textContent).toBe('https://hooks.example.com/notifications'));
    expect(screen.getByTestId('status-tunnel').textContent).toContain('Tunnel online');
    expect(screen.getByTestId('status-forward').textContent).toContain('http://localhost:3000/api/notifications');
    await fireEvent.click(screen.getByRole('button', { name: 'Copy public URL' }));
    expect(backend.copied).toContain('https://hooks.example.com/notifications');
  });

  it('keeps deliveries for the days asked, refusing what the engine would, or forever when empty', async () => {
    const backend = new MemoryBackend();
    const form = await openSettings(backend);
    expect(screen.getByTestId('retention-hint').textContent).toContain('Every delivery is kept');
    await fireEvent.input(field(form, 'retention'), { target: { value: '0' } });
    await fireEvent.click(within(form).getByRole('button', { name: 'Save settings' }));
    expect((await within(form).findByRole('alert')).textContent).toBe(
      'Keep deliveries for 1 to 3650 days, or leave the retention empty to keep everything.',
    );
    expect(backend.saved.retentionDays).toBeNull();

    await fireEvent.input(field(form, 'retention'), { target: { value: '14' } });
    expect(screen.getByTestId('retention-hint').textContent).toContain('deleted at once and then every hour');
    await fireEvent.click(within(form).getByRole('button', { name: 'Save settings' }));
    await waitFor(() => expect(backend.saved.retentionDays).toBe(14));

    await fireEvent.input(field(form, 'retention'), { target: { value: '' } });
    await fireEvent.click(within(form).getByRole('button', { name: 'Save settings' }));
    await waitFor(() => expect(backend.saved.retentionDays).toBeNull());
  });

  it('applies the theme it saves', async () => {
    const backend = new MemoryBackend();
    const form = await openSettings(backend);
    await fireEvent.click(within(form).getByLabelText('Dark'));
    await fireEvent.click(within(form).getByRole('button', { name: 'Save settings' }));
    await waitFor(() => expect(backend.saved.theme).toBe('dark'));
    await waitFor(() => expect(document.documentElement.dataset.theme).toBe('dark'));
  });

  it('signs in with a device code: the code, the browser, then the identity in the status bar', async () => {
    const backend = new MemoryBackend();
    await openSettings(backend);
    expect(screen.getByTestId('status-identity').textContent).toBe('Not signed in');
    const graph = screen.getByTestId('settings-graph');
    await fireEvent.input(within(graph).getByLabelText('Tenant id'), { target: { value: 'contoso' } });
    await fireEvent.input(within(graph).getByLabelText('Client id'), { target: { value: 'app' } });
    await fireEvent.click(within(graph).getByRole('button', { name: 'Sign in with a device code' }));
    expect((await screen.findByTestId('device-code')).textContent).toContain('HKSCP123');
    await fireEvent.click(screen.getByRole('button', { name: 'Open the sign-in page' }));
    await fireEvent.click(screen.getByRole('button', { name: 'I have signed in' }));
    await waitFor(() => expect(screen.getByTestId('status-identity').textContent).toBe('Tenant contoso · app app'));
    expect(backend.signIns).toEqual(['device contoso app', 'open page', 'finish']);
    expect(screen.getByTestId('graph-identity').textContent).toContain('Signed in to tenant contoso');
  });

  it('signs in to a national cloud when one is chosen', async () => {
    const backend = new MemoryBackend();
    await openSettings(backend);
    const graph = screen.getByTestId('settings-graph');
    await fireEvent.input(within(graph).getByLabelText('Tenant id'), { target: { value: 'agency' } });
    await fireEvent.input(within(graph).getByLabelText('Client id'), { target: { value: 'app' } });
    await fireEvent.input(within(graph).getByLabelText('Client secret'), { target: { value: 's3cret' } });
    const cloud = within(graph).getByLabelText('Cloud') as HTMLSelectElement;
    cloud.value = 'usgov';
    await fireEvent.change(cloud);
    await fireEvent.click(within(graph).getByRole('button', { name: 'Sign in as the app' }));
    await waitFor(() => expect(backend.signIns).toEqual(['app agency app usgov']));
    // Where the app now reads and subscribes, as the Subscriptions tab says it.
    await fireEvent.click(screen.getByRole('tab', { name: 'Subscriptions' }));
    await waitFor(() => expect(screen.getByTestId('graph-status').textContent).toContain('Connected to https://graph.microsoft.us'));
  });

  it('says what is missing when signing in as the app without a secret', async () => {
    const backend = new MemoryBackend();
    await openSettings(backend);
    const graph = screen.getByTestId('settings-graph');
    await fireEvent.input(within(graph).getByLabelText('Tenant id'), { target: { value: 'contoso' } });
    await fireEvent.input(within(graph).getByLabelText('Client id'), { target: { value: 'app' } });
    await fireEvent.click(within(graph).getByRole('button', { name: 'Sign in as the app' }));
    expect((await within(graph).findByRole('alert')).textContent).toContain('Paste the client secret');
  });

  it('keeps a muted subscription', async () => {
    const backend = new MemoryBackend();
    await backend.tryWithoutTenant();
    const form = await openSettings(backend);
    const sub = backend.kept[0];
    const box = await waitFor(() => {
      const found = Array.from(form.querySelectorAll<HTMLLabelElement>('.mutes label')).find((l) => l.textContent?.includes(sub.id.slice(0, 8)));
      expect(found).toBeTruthy();
      return found!.querySelector('input')!;
    });
    await fireEvent.click(box);
    await fireEvent.click(within(form).getByRole('button', { name: 'Save settings' }));
    await waitFor(() => expect(backend.saved.toasts.muted).toEqual([sub.id]));
  });
});
