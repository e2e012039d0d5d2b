// Writes schema/alerts.schema.json from the zod schema (`npm run schema`). The file is committed so
// editors can use it from a checkout or the npm package; a test fails when it is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderJsonSchema } from '../src/config/json-schema.js';

const target = fileURLToPath(new URL('../schema/alerts.schema.json', import.meta.url));
writeFileSync(target, renderJsonSchema());
