import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { Markdown } from "./components/Markdown";
import { chatMarkdown } from "./markdown";

const render = (text: string) => renderToStaticMarkup(<Markdown text={text} />);

// What the built-in Operations liaison writes for an SOP (agents/capabilities/operations.py).
const SOP = [
  "SOP: Month-end close",
  "Procedure:",
  "1. Reconcile accounts",
  "2. Post accruals",
  "Checklist:",
  "[ ] Reconcile accounts",
  "[ ] Post accruals",
  "Records: keep the completed checklist with the date and who did it.",
].join("\n");

// What the Business Outcomes liaison writes for a roadmap (business_outcomes.py).
const ROADMAP = [
  "Roadmap outline from 2 stated goal(s):",
  "Now:",
  "- grow revenue 20% (target 20%, by Q4). First step: pick one lever",
  "- cut churn (no target stated yet, no date stated yet). First step: measure it",
  'To firm it up, give each goal a number and a date, e.g. "reduce churn from 8% to 5% by Q4".',
].join("\n");

describe("rendered replies", () => {
  it("shows HTML and script inside a reply as text, never as markup", () => {
    const html = render(
      'Hi <script>alert("x")</script> and <img src=x onerror="alert(1)"> <b>bold</b>',
    );
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<b>");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });

  it("shows a block of HTML as text too", () => {
    const html = render("<div onclick=\"steal()\">\n<iframe src='https://example.com'>\n</div>");
    expect(html).not.toMatch(/<(div|iframe)\b/);
    expect(html).toContain("&lt;iframe");
  });

  it("does not turn a javascript: link into a live one", () => {
    const html = render("[click](javascript:alert(1))");
    expect(html).not.toContain("javascript:");
  });

  it("renders an SOP's checklist as read-only checkboxes and its procedure as a list", () => {
    const html = render(SOP);
    expect(html.match(/<input type="checkbox" disabled="" aria-label="To do"\/>/g)).toHaveLength(2);
    expect(html).toContain("<ol>");
    expect(html).toContain("<li>Reconcile accounts</li>");
    // The line after the checklist is a paragraph of its own, not part of the last item.
    expect(html).toMatch(/<\/ul>\s*<p>Records: keep/);
  });

  it("renders a roadmap's bullets as list items and the advice after them apart", () => {
    const html = render(ROADMAP);
    expect(html.match(/<li>/g)).toHaveLength(2);
    expect(html).not.toContain("<li>- ");
    expect(html).toMatch(/<\/ul>\s*<p>To firm it up/);
  });

  it("renders tables, code blocks with a copy button, and checked tasks", () => {
    const html = render(
      "| month | sales |\n| --- | ---: |\n| Jan | 1,200 |\n\n```python\nprint('hi')\n```\n\n- [x] done",
    );
    expect(html).toContain("<table>");
    expect(html).toContain("<th>month</th>");
    expect(html).toMatch(/<td[^>]*>1,200<\/td>/);
    expect(html).toContain('aria-label="Copy code"');
    expect(html).toContain('<code class="language-python">print(&#x27;hi&#x27;)\n</code>');
    expect(html).toContain('<input type="checkbox" disabled="" aria-label="Done" checked=""/>');
  });

  it("keeps the agents' single line breaks", () => {
    expect(render("Purpose: one way\nScope: always")).toContain("Purpose: one way<br/>");
  });
});

describe("chatMarkdown", () => {
  it("leaves fenced code alone", () => {
    const text = "```\n[ ] not a task\n- item\nnext\n```";
    expect(chatMarkdown(text)).toBe(text);
  });

  it("holds back a half-arrived closing fence while the reply streams, not after", () => {
    const partial = "```js\nconst a = 1;\n`";
    expect(chatMarkdown(partial, true)).toBe("```js\nconst a = 1;");
    expect(chatMarkdown(partial)).toBe(partial);
    expect(chatMarkdown("text\n`", true)).toBe("text\n`");
  });

  it("keeps indented continuation lines inside their item", () => {
    expect(chatMarkdown("- item\n  more of it")).toBe("- item\n  more of it");
  });

  it("renders a partly streamed reply without losing what arrived", () => {
    const html = render("Steps:\n1. first\n2. sec");
    expect(html).toContain("<li>sec</li>");
    expect(render("```js\nconst a")).toContain("const a");
  });
});
