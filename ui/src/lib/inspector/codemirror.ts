// The inspector's text view: CodeMirror 6, read-only, with JSON highlighting, folding and search
// (Ctrl-F). Loaded on first use so the feed's first paint does not pay for it.
//
// It lives in a shadow root: there CodeMirror's styles go into constructed stylesheets, which the app's
// CSP (`style-src 'self'`, no inline styles) allows; in the document it would inject a `<style>` tag the
// CSP blocks, and the editor would draw without its layout.
import { EditorState } from '@codemirror/state';
import { EditorView, drawSelection, keymap, lineNumbers } from '@codemirror/view';
import { json } from '@codemirror/lang-json';
import { bracketMatching, defaultHighlightStyle, foldGutter, foldKeymap, syntaxHighlighting } from '@codemirror/language';
import { highlightSelectionMatches, openSearchPanel, search, searchKeymap } from '@codemirror/search';
import { defaultKeymap } from '@codemirror/commands';

const look = EditorView.theme({
  '&': { fontSize: '0.75rem', backgroundColor: 'var(--surface-sunken)', color: 'var(--text)', borderRadius: '6px', maxHeight: '22rem' },
  '.cm-scroller': { fontFamily: 'var(--mono)', overflow: 'auto' },
  '.cm-gutters': { backgroundColor: 'var(--surface-sunken)', color: 'var(--text-muted)', border: 'none' },
  '.cm-panels': { backgroundColor: 'var(--surface-raised)', color: 'var(--text)' },
});

export interface JsonText {
  /** Opens the search panel, as Ctrl-F does inside the text. */
  search(): void;
  destroy(): void;
}

/** Mounts the editor in `host`'s shadow root (created on first use), replacing what the host showed. */
export function mountJsonText(host: HTMLElement, doc: string): JsonText {
  const root = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
  // Until the editor stands, a slot keeps the host's plain text showing; if it fails, the text stays.
  const slot = document.createElement('slot');
  const parent = document.createElement('div');
  root.replaceChildren(slot, parent);
  let view: EditorView;
  try {
    view = makeView(parent, root, doc);
  } catch (error) {
    parent.remove();
    throw error;
  }
  slot.remove();
  return {
    search: () => openSearchPanel(view),
    destroy: () => {
      view.destroy();
      parent.remove();
      root.replaceChildren(document.createElement('slot'));
    },
  };
}

function makeView(parent: HTMLElement, root: ShadowRoot, doc: string): EditorView {
  return new EditorView({
    parent,
    root,
    state: EditorState.create({
      doc,
      extensions: [
        // Read-only yet focusable, so the cursor, selection and search keys work.
        EditorState.readOnly.of(true),
        lineNumbers(),
        foldGutter(),
        drawSelection(),
        bracketMatching(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        json(),
        search({ top: true }),
        highlightSelectionMatches(),
        keymap.of([...searchKeymap, ...foldKeymap, ...defaultKeymap]),
        EditorView.lineWrapping,
        look,
      ],
    }),
  });
}
