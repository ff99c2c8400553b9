/**
 * A lab host for a client's Client ID Metadata Document: an https server on 127.0.0.1 with a fresh self-signed
 * certificate (client_id URLs are https only, even in a lab). The IdP is told to trust exactly this origin and this
 * certificate (IDP_CIMD_TRUSTED_ORIGINS, IDP_CIMD_CA_FILE).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';

export interface CimdHost {
  /** `https://127.0.0.1:<port>` */
  readonly origin: string;
  /** The client_id: the document's own URL. */
  readonly clientId: string;
  /** PEM of the self-signed certificate, written to a file for IDP_CIMD_CA_FILE. */
  readonly caFile: string;
  /** How many times the document was fetched. */
  fetches(): number;
  close(): Promise<void>;
}

/** The lab CLI's metadata document: a public native client with loopback redirect URIs (RFC 8252 §7.3). */
export function labClientMetadata(clientId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: clientId,
    client_name: 'MCP lab CLI (metadata document)',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
    ...extra,
  };
}

export async function startCimdHost(document: (clientId: string) => Record<string, unknown> = labClientMetadata): Promise<CimdHost> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const dir = await mkdtemp(join(tmpdir(), 'mcp-lab-cimd-'));
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, pems.cert);
  let count = 0;
  let clientId = '';
  const server: Server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    if (req.method === 'GET' && req.url === '/mcp-lab-client.json') {
      count++;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' });
      res.end(JSON.stringify(document(clientId)));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  clientId = `${origin}/mcp-lab-client.json`;
  return {
    origin,
    clientId,
    caFile,
    fetches: () => count,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
