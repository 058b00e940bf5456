// Entry: the locale guard runs before anything that reads navigator.language at load time, zod
// runs without generating code (the page's CSP allows no eval), then the app mounts on its host.
import './lib/locale-guard';
import './lib/zod-setup';
import './app.css';
import { mount } from 'svelte';
import App from './app.svelte';
import { connectHost } from './lib/host';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target, props: { host: connectHost(window) } });
