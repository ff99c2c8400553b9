import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../src/free-port.ts';

describe('freePorts', () => {
  it('hands out distinct ports, none of the excluded ones, each free to listen on afterwards', async () => {
    const [first] = await freePorts(1);
    const ports = await freePorts(20, [first!]);
    expect(ports).toHaveLength(20);
    expect(new Set(ports).size).toBe(20);
    expect(ports).not.toContain(first);
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(ports[0], '127.0.0.1', () => resolve());
    });
    await new Promise((r) => srv.close(r));
  });
});
