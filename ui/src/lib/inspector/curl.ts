// "Copy as cURL": the stored request as a shell command that sends it again, byte for byte where the
// body is text. Headers that describe the old connection are left out, as the replay leaves them out.
import type { RequestRecord } from '../bindings';

const NOT_CARRIED = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'accept-encoding']);

/** Single-quoted for POSIX shells: a quote inside becomes '\''. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function curlCommand(request: RequestRecord, base: string): string {
  const url = `${base.replace(/\/+$/, '')}${request.path}${request.query ? `?${request.query}` : ''}`;
  const parts = ['curl', '-X', shellQuote(request.method), shellQuote(url)];
  for (const [name, value] of Object.entries(request.headers).sort(([a], [b]) => a.localeCompare(b))) {
    if (NOT_CARRIED.has(name)) continue;
    parts.push('-H', shellQuote(`${name}: ${value}`));
  }
  if (request.body !== undefined && request.body !== '') {
    // --data-raw: a body starting with @ is sent as it is, never read as a file name.
    parts.push('--data-raw', shellQuote(request.body));
  } else if (request.bodyBase64 !== undefined) {
    parts.unshift(`printf %s ${shellQuote(request.bodyBase64)} | base64 -d |`);
    parts.push('--data-binary', '@-');
  }
  return parts.join(' ');
}
