import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';

describe('published types', () => {
  it('a consumer file type-checks against dist/*.d.ts (and misuse does not)', () => {
    const out = (() => {
      try {
        return execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--types', 'node', 'test/types/consumer.ts'], { encoding: 'utf8' });
      } catch (e) {
        return String((e as { stdout?: string }).stdout) + String((e as { stderr?: string }).stderr);
      }
    })();
    expect(out.trim()).toBe('');
  });
});
