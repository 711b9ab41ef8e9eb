import { mount } from 'svelte';
import './app/app.css';
import App from './app/App.svelte';
import { datasetChecksum } from './core/data/procedural';
import { registerServiceWorker } from './sw-register';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

export default mount(App, { target });

registerServiceWorker();

declare global {
  interface Window {
    /** Fingerprint of the demo dataset as this browser generates it (compared with Node's in e2e). */
    amcDatasetChecksum?: (split: 'train' | 'val' | 'test', count: number) => Promise<string>;
  }
}
window.amcDatasetChecksum = async (split, count) => datasetChecksum(split, count);
