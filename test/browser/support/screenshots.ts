// Where the browser tests save their screenshots: SCREENSHOT_DIR, else test-results/browser (not
// tracked). `SCREENSHOT_DIR=docs npm run test:browser` refreshes the README's docs/report.png and
// docs/status-page.png.
import { isAbsolute, join } from 'node:path';
import { REPO } from '../../support/cli-process.js';

const chosen = process.env['SCREENSHOT_DIR'];

export const SCREENSHOT_DIR = chosen ? (isAbsolute(chosen) ? chosen : join(REPO, chosen)) : join(REPO, 'test-results', 'browser');
