import { rmSync } from 'node:fs';

/** Removes the migrated template the global setup made (a crashed run's is swept by the next one). */
export default function globalTeardown(): void {
  const template = process.env.TEST_PGLITE_TEMPLATE_DIR;
  if (template) rmSync(template, { recursive: true, force: true });
}
