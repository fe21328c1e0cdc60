import './ui/share/csp'; // first: zod without `new Function` (Content-Security-Policy)
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { registerServiceWorker } from './ui/share/offline';
import { exposeShareHooks } from './ui/share/ShareMenu';
import './ui/styles.css';

registerServiceWorker();
exposeShareHooks();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
