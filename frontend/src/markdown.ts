// Replies are markdown, but the built-in agents write plain-text lists that markdown reads
// otherwise: an SOP checklist is "[ ] step" lines (a task list needs "- [ ] step"), and a line
// of prose right after a list item would be swallowed into that item ("lazy continuation").
// These rewrites make such text render as its author meant; fenced code is left untouched.

const FENCE = /^\s{0,3}(`{3,}|~{3,})/;
const BARE_TASK = /^(\s*)\[([ xX])\]\s+/;
const LIST_ITEM = /^\s*(?:[-*+]|\d{1,9}[.)])\s+/;

// While a reply streams, its last line may be a closing fence that has not fully arrived.
const PARTIAL_FENCE = /^\s{0,3}(`{1,2}|~{1,2})$/;

/**
 * The reply's text, with bare checklist lines and list endings made explicit for markdown.
 * While it `streaming`, a half-arrived closing fence is held back, so that the code block
 * does not grow a line that vanishes a moment later.
 */
export function chatMarkdown(text: string, streaming = false): string {
  const out: string[] = [];
  let fence: string | null = null;
  let inList = false;
  const lines = text.split("\n");
  for (const [index, line] of lines.entries()) {
    const opener = FENCE.exec(line)?.[1];
    if (fence !== null) {
      const last = index === lines.length - 1;
      if (streaming && last && PARTIAL_FENCE.exec(line)?.[1][0] === fence[0]) continue;
      if (opener !== undefined && opener[0] === fence[0] && opener.length >= fence.length) {
        fence = null;
      }
      out.push(line);
      continue;
    }
    if (opener !== undefined) {
      fence = opener;
      inList = false;
      out.push(line);
      continue;
    }
    const task = BARE_TASK.exec(line);
    const current = task !== null ? `${task[1]}- [${task[2]}] ${line.slice(task[0].length)}` : line;
    const isItem = LIST_ITEM.test(current);
    const blank = current.trim() === "";
    // Unindented prose after a list starts a new paragraph instead of joining the last item.
    if (inList && !isItem && !blank && !/^\s/.test(current)) out.push("");
    if (!isItem && !blank && !/^\s/.test(current)) inList = false;
    if (isItem) inList = true;
    out.push(current);
  }
  return out.join("\n");
}
