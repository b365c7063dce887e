import { describe, expect, it } from 'vitest';
import { waitFor } from './waitFor.ts';

describe('waitFor', () => {
  it('resolves to the milliseconds it waited once the condition holds', async () => {
    // the clock starts at the first check, which waitFor makes after its own start: its count is never short
    let start: number | undefined;
    const ms = await waitFor(() => Date.now() - (start ??= Date.now()) >= 30, 2000, 2);
    expect(ms).toBeGreaterThanOrEqual(30);
    expect(ms).toBeLessThan(2000);
    expect(await waitFor(async () => true)).toBeLessThan(50);
  });

  it('rejects after the deadline naming what it waited for', async () => {
    const flag = { done: false };
    await expect(waitFor(() => flag.done, 50)).rejects.toThrow(/^waitFor: timed out after 50 ms waiting for \(\) => flag\.done$/);
    await expect(waitFor(() => false, 30, { what: 'the daemon to stop' })).rejects.toThrow('waiting for the daemon to stop');
  });
});
