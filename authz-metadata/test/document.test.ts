import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, dexAuthorizationServerMetadata, formatMetadataDocument, loadMetadataDocument } from '../src/app.ts';
import { DEFAULT_DOCUMENT_PATH } from '../src/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'authz-metadata-doc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeDoc(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

describe('the checked-in Dex document', () => {
  it('is what dexAuthorizationServerMetadata renders for the default issuer (run scripts/dex-metadata.ts to refresh)', () => {
    expect(readFileSync(DEFAULT_DOCUMENT_PATH, 'utf8')).toBe(
      formatMetadataDocument(dexAuthorizationServerMetadata('http://127.0.0.1:5556/dex')),
    );
  });

  it('names Dex endpoints under the issuer, S256 only, public clients, and no registration endpoint', () => {
    const doc = loadMetadataDocument(DEFAULT_DOCUMENT_PATH, 'http://127.0.0.1:5556/dex');
    expect(doc).toMatchObject({
      issuer: 'http://127.0.0.1:5556/dex',
      authorization_endpoint: 'http://127.0.0.1:5556/dex/auth',
      token_endpoint: 'http://127.0.0.1:5556/dex/token',
      jwks_uri: 'http://127.0.0.1:5556/dex/keys',
      userinfo_endpoint: 'http://127.0.0.1:5556/dex/userinfo',
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
    });
    expect(doc.token_endpoint_auth_methods_supported).toContain('none');
    expect(doc.scopes_supported).toEqual(['openid', 'email', 'profile', 'offline_access', 'groups']);
    expect(doc).not.toHaveProperty('registration_endpoint');
    expect(Object.isFrozen(doc)).toBe(true);
  });
});

describe('loadMetadataDocument', () => {
  it('refuses a document whose issuer differs from the configured one (RFC 8414 §3.3)', () => {
    const p = writeDoc('other.json', dexAuthorizationServerMetadata('http://127.0.0.1:9999/dex'));
    expect(() => loadMetadataDocument(p, 'http://127.0.0.1:5556/dex')).toThrow(ConfigError);
    expect(() => loadMetadataDocument(p, 'http://127.0.0.1:5556/dex')).toThrow(
      /AUTHZ_METADATA_DOCUMENT .* has issuer "http:\/\/127\.0\.0\.1:9999\/dex" but AUTHZ_METADATA_ISSUER is "http:\/\/127\.0\.0\.1:5556\/dex"/,
    );
  });

  it('refuses an issuer that differs only by a trailing slash', () => {
    const p = writeDoc('slash.json', dexAuthorizationServerMetadata('http://127.0.0.1:5556/dex/'));
    expect(() => loadMetadataDocument(p, 'http://127.0.0.1:5556/dex')).toThrow(ConfigError);
  });

  it.each([
    ['a missing file', join(dir, 'absent.json'), /cannot be read/],
    ['invalid JSON', 'broken', /is not RFC 8414 metadata/],
    ['a document without issuer', 'noissuer', /is not RFC 8414 metadata: "issuer"/],
  ])('refuses %s, naming AUTHZ_METADATA_DOCUMENT', (_label, which, message) => {
    const p =
      which === 'broken'
        ? writeDoc('broken.json', '{"issuer": ')
        : which === 'noissuer'
          ? writeDoc('noissuer.json', { token_endpoint: 'http://127.0.0.1:5556/dex/token' })
          : which;
    let caught: unknown;
    try {
      loadMetadataDocument(p, 'http://127.0.0.1:5556/dex');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).message).toMatch(message);
    expect((caught as ConfigError).problems[0]).toContain('AUTHZ_METADATA_DOCUMENT');
  });
});

describe('main', () => {
  it('refuses to start when the document belongs to another issuer, with a clear error', async () => {
    const p = writeDoc('main-other.json', dexAuthorizationServerMetadata('http://127.0.0.1:9999/dex'));
    const child = spawn(process.execPath, [new URL('../src/main.ts', import.meta.url).pathname], {
      env: { ...process.env, AUTHZ_METADATA_PORT: '0', AUTHZ_METADATA_DOCUMENT: p },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('invalid authz-metadata configuration');
    expect(stderr).toContain('has issuer "http://127.0.0.1:9999/dex" but AUTHZ_METADATA_ISSUER is "http://127.0.0.1:5556/dex"');
  });
});
