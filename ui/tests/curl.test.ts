// @vitest-environment node
// "Copy as cURL" run for real: the command, pasted into a shell, sends the stored request again to a
// local server with the same method, path, query, headers and body, quotes and all.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestRecord } from '../src/lib/bindings';
import { curlCommand } from '../src/lib/inspector/curl';

const run = promisify(execFile);
let base = '';
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
    res.writeHead(202).end();
  });
});

beforeAll(async () => {
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

function record(fields: Partial<RequestRecord>): RequestRecord {
  return {
    id: 'r1',
    receivedAt: '2026-12-01T00:00:00Z',
    method: 'POST',
    path: '/notifications',
    query: null,
    headers: {},
    bodySize: 0,
    bodyTruncated: false,
    kind: 'notifications',
    status: 202,
    response: '',
    latencyMs: 1,
    replayOf: null,
    ...fields,
  };
}

describe('copy as cURL', () => {
  it('sends the same request again when pasted into a shell', async () => {
    const body = `{"value":[{"resource":"Users/O'Brien/Messages","subject":"it's \\"quoted\\" $HOME \`x\`"}]}`;
    const command = curlCommand(
      record({
        query: 'validationToken=a%20b',
        headers: { 'content-type': 'application/json; charset=utf-8', host: 'old.example', 'content-length': '9', 'x-ms-test': "it's" },
        body,
      }),
      base + '/',
    );
    await run('sh', ['-c', `${command} -s -o /dev/null`]);
    const got = seen.pop()!;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/notifications?validationToken=a%20b');
    expect(got.body.toString('utf8')).toBe(body);
    expect(got.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(got.headers['x-ms-test']).toBe("it's");
    expect(got.headers.host).toBe(base.replace('http://', ''));
  });

  it('sends a body starting with @ as text, never a file it names', async () => {
    const body = '@/etc/passwd';
    await run('sh', ['-c', `${curlCommand(record({ body }), base)} -s -o /dev/null`]);
    expect(seen.pop()!.body.toString('utf8')).toBe(body);
  });

  it('sends a body that is not text from its base64', async () => {
    const bytes = Buffer.from([0, 255, 39, 10, 128]);
    const command = curlCommand(record({ bodyBase64: bytes.toString('base64') }), base);
    await run('sh', ['-c', `${command} -s -o /dev/null`]);
    expect(seen.pop()!.body.equals(bytes)).toBe(true);
  });
});
