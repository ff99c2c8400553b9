import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, compileCacheDir, loadConfig } from '../src/config.ts';

describe('loadConfig (the CLI environment)', () => {
  it('defaults: the store under ~/.config, no conformance mode, colors on a TTY; frozen', () => {
    const c = loadConfig({}, true);
    expect(c).toEqual({ storeDir: join(homedir(), '.config', 'mcp-lab-client'), conformance: undefined, color: true, refreshLockOff: false });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('MCP_LAB_CLIENT_TEST_NO_REFRESH_LOCK turns the refresh lock off (the refresh-race test only); a bad value is refused', () => {
    expect(loadConfig({ MCP_LAB_CLIENT_TEST_NO_REFRESH_LOCK: 'true' }, false).refreshLockOff).toBe(true);
    expect(() => loadConfig({ MCP_LAB_CLIENT_TEST_NO_REFRESH_LOCK: 'maybe' }, false)).toThrow(/MCP_LAB_CLIENT_TEST_NO_REFRESH_LOCK/);
  });

  it('MCP_LAB_CLIENT_HOME wins over XDG_CONFIG_HOME', () => {
    expect(loadConfig({ XDG_CONFIG_HOME: '/xdg' }, false).storeDir).toBe('/xdg/mcp-lab-client');
    expect(loadConfig({ XDG_CONFIG_HOME: '/xdg', MCP_LAB_CLIENT_HOME: '/home-dir' }, false).storeDir).toBe('/home-dir');
  });

  it('no colors off a TTY or with NO_COLOR set (an empty NO_COLOR does not count)', () => {
    expect(loadConfig({}, false).color).toBe(false);
    expect(loadConfig({ NO_COLOR: '1' }, true).color).toBe(false);
    expect(loadConfig({ NO_COLOR: '' }, true).color).toBe(true);
  });

  it('conformance mode: the scenario and its JSON context (read only with a scenario)', () => {
    expect(loadConfig({ MCP_CONFORMANCE_SCENARIO: 'auth/basic', MCP_CONFORMANCE_CONTEXT: '{"client_id":"c"}' }, false).conformance).toEqual({
      scenario: 'auth/basic',
      context: { client_id: 'c' },
    });
    expect(loadConfig({ MCP_CONFORMANCE_SCENARIO: '', MCP_CONFORMANCE_CONTEXT: '{nope' }, false).conformance).toBeUndefined();
  });

  it.each([
    ['not JSON', '{nope', /MCP_CONFORMANCE_CONTEXT: is not JSON/],
    ['a JSON array', '[]', /MCP_CONFORMANCE_CONTEXT: must be a JSON object/],
  ])('refuses a context that is %s, naming the variable', (_name, context, message) => {
    const load = () => loadConfig({ MCP_CONFORMANCE_SCENARIO: 'auth/basic', MCP_CONFORMANCE_CONTEXT: context }, false);
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(message);
  });

  it('compileCacheDir: under XDG_CACHE_HOME, else ~/.cache', () => {
    expect(compileCacheDir({ XDG_CACHE_HOME: '/c' })).toBe('/c/mcp-lab-client/compile-cache');
    expect(compileCacheDir({})).toBe(join(homedir(), '.cache', 'mcp-lab-client', 'compile-cache'));
  });
});
