import { type ComponentProps, memo, useRef } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import remarkBreaks from "remark-breaks";
import remarkGfm from "remark-gfm";

import { chatMarkdown } from "../markdown";
import { CopyButton } from "./CopyButton";

interface MarkdownNode {
  type: string;
  value?: string;
  children?: MarkdownNode[];
}

// Raw HTML in a reply is shown as the text it is: never parsed, never run. (Without this
// plugin the renderer would drop it silently, and the reader would miss part of the reply.)
function remarkHtmlAsText() {
  return (tree: MarkdownNode) => {
    const visit = (node: MarkdownNode) => {
      if (node.type === "html") node.type = "text";
      node.children?.forEach(visit);
    };
    visit(tree);
  };
}

const PLUGINS = [remarkGfm, remarkBreaks, remarkHtmlAsText];

const COMPONENTS: Components = {
  pre: CodeBlock,
  a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noopener noreferrer" />,
  // A task list's box: read-only, and named for screen readers (its item's text follows it).
  input: ({ node: _node, ...props }) =>
    props.type === "checkbox" ? (
      <input {...props} disabled aria-label={props.checked ? "Done" : "To do"} />
    ) : (
      <input {...props} />
    ),
  table: ({ node: _node, ...props }) => (
    // Wide tables scroll inside the message instead of widening the thread.
    <div className="table-scroll">
      <table {...props} />
    </div>
  ),
};

/**
 * A reply's markdown as HTML, with raw HTML shown as text. Memoised on the text: while one
 * reply streams, the others in the thread are not parsed again, and the growing one is
 * reconciled in place, so what is already on screen stays put.
 */
export const Markdown = memo(function Markdown({
  text,
  streaming = false,
}: {
  text: string;
  streaming?: boolean;
}) {
  return (
    <ReactMarkdown remarkPlugins={PLUGINS} components={COMPONENTS} skipHtml={false}>
      {chatMarkdown(text, streaming)}
    </ReactMarkdown>
  );
});

function CodeBlock({ node: _node, ...props }: ComponentProps<"pre"> & { node?: unknown }) {
  const pre = useRef<HTMLPreElement>(null);
  return (
    <div className="code-block">
      <CopyButton label="Copy code" text={() => pre.current?.textContent ?? ""} />
      <pre ref={pre} {...props} />
    </div>
  );
}
