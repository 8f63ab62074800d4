// What the inspector derives from an `Inspection`: the checks with their verdicts, the encrypted
// content as delivered, pretty JSON, and the raw request as text. Pure, so it is tested without a DOM.
import type { Inspection, RequestRecord } from '../bindings';
import { parseJson } from './json';

export type CheckState = 'passed' | 'failed' | 'absent';

export interface Check {
  id: 'verdict' | 'tokens' | 'decryption' | 'duplicate';
  label: string;
  state: CheckState;
  detail: string;
}

export interface EncryptedView {
  certificateId: string;
  thumbprint: string;
  data: string;
  dataKey: string;
  dataSignature: string;
}

/** Parses JSON text, or returns null when it is not JSON (a malformed item is shown as text). */
function parse(text: string): unknown {
  const parsed = parseJson(text);
  return parsed.ok ? parsed.value : null;
}

/** Two-space indented JSON; text that is not JSON comes back as it was. */
export function pretty(value: unknown): string {
  if (typeof value === 'string') {
    const parsed = parse(value);
    return parsed === null ? value : JSON.stringify(parsed, null, 2);
  }
  return JSON.stringify(value, null, 2) ?? String(value);
}

/** The item's `encryptedContent`, when it carries one. */
export function encrypted(inspection: Inspection): EncryptedView | null {
  const item = parse(inspection.item) as { encryptedContent?: Record<string, unknown> } | null;
  const content = item?.encryptedContent;
  if (!content || typeof content !== 'object') return null;
  const text = (key: string) => (typeof content[key] === 'string' ? (content[key] as string) : '');
  return {
    certificateId: text('encryptionCertificateId'),
    thumbprint: text('encryptionCertificateThumbprint'),
    data: text('data'),
    dataKey: text('dataKey'),
    dataSignature: text('dataSignature'),
  };
}

/** What the batch's validation tokens proved. A rich item with none to check is not vouched for. */
function tokensCheck(valid: boolean | null, rich: boolean, rejected: boolean): Check {
  const check = (state: CheckState, detail: string): Check => ({ id: 'tokens', label: 'Validation tokens', state, detail });
  if (valid === true) return check('passed', 'Every token checked out: signature, lifetime, audience, issuer and publisher.');
  if (valid === false) return check('failed', 'A token failed its check, so nothing in the batch is trusted.');
  if (rich && rejected) return check('failed', 'No token could be checked for this encrypted item, so nothing proves it comes from Graph; the verdict says why.');
  return check('absent', 'The batch carried no validation tokens (only rich notifications do).');
}

/** Each check the receiver applied, in its order, with what it concluded. */
export function checks(inspection: Inspection): Check[] {
  const n = inspection.notification;
  const rich = encrypted(inspection) !== null;
  const out: Check[] = [
    {
      id: 'verdict',
      label: 'Verdict',
      state: n.verdict === 'accepted' ? 'passed' : 'failed',
      detail: n.verdict === 'accepted' ? 'Accepted: known subscription, clientState matches, well formed.' : (n.reason ?? 'Rejected.'),
    },
    tokensCheck(n.tokensValid, rich, n.verdict === 'rejected'),
    {
      id: 'decryption',
      label: 'Resource data',
      state: !rich ? 'absent' : n.decrypted !== null ? 'passed' : 'failed',
      detail: !rich
        ? 'No encrypted content in this item.'
        : n.decrypted !== null
          ? 'HMAC verified, then decrypted with the certificate the item names.'
          : 'Not decrypted; the verdict says why.',
    },
  ];
  if (n.duplicate) {
    out.push({ id: 'duplicate', label: 'Duplicate', state: 'failed', detail: 'The same change was delivered before; this copy is kept too.' });
  }
  return out;
}

/** The request as an HTTP/1.1 message: request line, headers, blank line, body. */
export function rawRequest(request: RequestRecord): string {
  const target = request.query ? `${request.path}?${request.query}` : request.path;
  const headers = Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`);
  const body = request.body ?? (request.bodyBase64 !== undefined ? `(binary, base64) ${request.bodyBase64}` : '');
  const cut = request.bodyTruncated ? `\n… (${request.bodySize} bytes in all; the rest was not kept)` : '';
  return [`${request.method} ${target} HTTP/1.1`, ...headers, '', body + cut].join('\n');
}
