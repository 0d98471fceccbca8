import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json, rules/ and fixtures/ live), from src/ or from dist/src/. */
export const PACKAGE_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'rules'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('ssh-doctor: cannot find the package root (package.json beside rules/)');
    dir = up;
  }
})();

export const BUILTIN_RULES = join(PACKAGE_ROOT, 'rules');
export const BUILTIN_FIXTURES = join(PACKAGE_ROOT, 'fixtures');
export const BUILTIN_SIGNATURES = join(PACKAGE_ROOT, 'signatures');
export const BUILTIN_SYMPTOMS = join(PACKAGE_ROOT, 'symptoms');
export const SCHEMA_DIR = join(PACKAGE_ROOT, 'schema');

export const VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
