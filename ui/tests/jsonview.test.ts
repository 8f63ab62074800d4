// The inspector's JSON: a tree whose deep branches start folded and whose huge arrays stay quick to
// draw, and the text in CodeMirror (read-only, with search), loaded when first asked for.
import { cleanup, fireEvent, render, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import JsonView from '../src/lib/components/JsonView.svelte';
import { SHOWN_CHILDREN } from '../src/lib/inspector/json';

afterEach(() => cleanup());

const item = {
  subscriptionId: 'sub-1',
  resourceData: { '@odata.type': '#Microsoft.Graph.Message', nested: { deeper: { deepest: 'folded' } } },
  count: 3,
  ok: true,
  nothing: null,
};

describe('the JSON tree', () => {
  it('reads like the JSON, with deep branches folded and counts on each branch', () => {
    const { container } = render(JsonView, { props: { text: JSON.stringify(item), testid: 'item', label: 'Item' } });
    const tree = container.querySelector('[data-testid="item"]')!;
    expect(tree.textContent).toContain('"subscriptionId": "sub-1"');
    expect(tree.textContent).toContain('"count": 3');
    expect(tree.textContent).toContain('"nothing": null');
    const branches = [...tree.querySelectorAll('details')];
    const open = branches.map((d) => [d.querySelector('summary')!.textContent!.trim(), d.open]);
    expect(open).toEqual([
      ['{ 5 keys', true],
      ['"resourceData": { 2 keys', true],
      ['"nested": { 1 key', true],
      ['"deeper": { 1 key', false],
    ]);
    expect(tree.querySelector('.value.string')?.textContent).toBe('"sub-1"');
  });

  it('draws a folded branch\'s children only once it is opened', async () => {
    const { container } = render(JsonView, { props: { text: JSON.stringify(item), testid: 'item', label: 'Item' } });
    const tree = container.querySelector('[data-testid="item"]')!;
    expect(tree.textContent).not.toContain('deepest');
    const deeper = [...tree.querySelectorAll('details')][3];
    deeper.open = true;
    deeper.dispatchEvent(new Event('toggle'));
    await waitFor(() => expect(tree.textContent).toContain('"deepest": "folded"'));
  });

  it('draws the first children of a huge array and says how many more there are', () => {
    const big = Array.from({ length: SHOWN_CHILDREN + 250 }, (_, i) => ({ i }));
    const { container } = render(JsonView, { props: { text: JSON.stringify({ value: big }), testid: 'item', label: 'Item' } });
    expect(container.querySelectorAll('[data-testid="item"] .children .children > details')).toHaveLength(SHOWN_CHILDREN);
    expect(container.querySelector('.more')?.textContent).toBe('… 250 more; the Text view shows them all');
  });

  it('shows text that is not JSON as text, with no tree to switch to', () => {
    const { container } = render(JsonView, { props: { text: '<not json>', testid: 'item', label: 'Item' } });
    expect(container.querySelector('[data-testid="item"]')!.textContent).toContain('<not json>');
    expect(container.querySelector('button')).toBeNull();
  });

  it('switches to the text in CodeMirror, read-only, with search', async () => {
    const { container, getByRole } = render(JsonView, { props: { text: JSON.stringify(item), testid: 'item', label: 'Item' } });
    await fireEvent.click(getByRole('button', { name: 'Text' }));
    const text = await waitFor(
      () => {
        const found = container.querySelector<HTMLElement>('[data-testid="item"][data-editor="codemirror"]');
        expect(found).not.toBeNull();
        return found!;
      },
      { timeout: 5000 },
    );
    // In a shadow root, where its styles are constructed sheets that a strict CSP allows.
    const shadow = text.shadowRoot!;
    expect(shadow.adoptedStyleSheets.length).toBeGreaterThan(0);
    const content = shadow.querySelector('.cm-content')!;
    expect(content.textContent).toContain('"subscriptionId": "sub-1"');
    expect(content.getAttribute('aria-readonly')).toBe('true');
    await fireEvent.click(getByRole('button', { name: 'Search' }));
    await waitFor(() => expect(shadow.querySelector('.cm-search input[name="search"]')).not.toBeNull());
    await fireEvent.click(getByRole('button', { name: 'Tree' }));
    await waitFor(() => expect(container.querySelector('[data-testid="item"] details')).not.toBeNull());
    expect(shadow.querySelector('.cm-editor')).toBeNull();
  });
});
