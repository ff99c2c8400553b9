/**
 * Writes docs/errors.md from the doctor's check definitions (`npm run docs:errors`). A test fails when the
 * committed file differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderCatalog } from '../mcp-client/src/doctor/catalog.ts';

const target = fileURLToPath(new URL('../docs/errors.md', import.meta.url));
writeFileSync(target, renderCatalog());
process.stdout.write(`wrote ${target}\n`);
