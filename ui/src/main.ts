import { mount } from 'svelte';
import App from './App.svelte';
import { createBackend } from './lib/backend';
import './app.css';
import { applyTheme } from './lib/settings/theme';

// The OS's theme for the first paint; the saved choice follows once the settings load.
applyTheme('system');

const app = mount(App, {
  target: document.getElementById('app')!,
  props: { backend: createBackend() },
});

export default app;
