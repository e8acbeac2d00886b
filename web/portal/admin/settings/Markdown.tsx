/**
 * The FAQ's Markdown shown as elements, never as HTML: the subset its pages use (headings, paragraphs,
 * nested lists, tables, **bold**, *emphasis*, `code`, links to http(s), mailto or this site). Anything
 * else stays text, so nothing in a page can add markup or script.
 */
import type { ComponentChildren, JSX } from 'preact';

type Block =
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; ordered: boolean; items: Item[] }
  | { kind: 'table'; head: string[]; rows: string[][] };
interface Item {
  text: string;
  children: Block[];
}

const LIST_ITEM = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/;
const cells = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((cell) => cell.trim());

export function parseMarkdown(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  // Open lists, outermost first, each with the indentation of its markers.
  let stack: { indent: number; list: Extract<Block, { kind: 'list' }> }[] = [];
  const flush = () => {
    if (paragraph.length) blocks.push({ kind: 'paragraph', text: paragraph.join(' ') });
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const item = LIST_ITEM.exec(line);
    if (item) {
      flush();
      const indent = (item[1] as string).length;
      const ordered = /\d/.test(item[2] as string);
      while (stack.length && (stack[stack.length - 1] as { indent: number }).indent > indent) stack.pop();
      let top = stack[stack.length - 1];
      if (!top || top.indent < indent) {
        const list: Extract<Block, { kind: 'list' }> = { kind: 'list', ordered, items: [] };
        const parent = top?.list.items[top.list.items.length - 1];
        if (parent) parent.children.push(list);
        else blocks.push(list);
        top = { indent, list };
        stack.push(top);
      }
      top.list.items.push({ text: item[3] as string, children: [] });
      continue;
    }
    if (!line.trim()) {
      flush();
      stack = [];
      continue;
    }
    if (stack.length && /^\s+/.test(line)) {
      const top = stack[stack.length - 1] as { list: Extract<Block, { kind: 'list' }> };
      const last = top.list.items[top.list.items.length - 1] as Item;
      last.text += ` ${line.trim()}`;
      continue;
    }
    stack = [];
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      blocks.push({ kind: 'heading', level: (heading[1] as string).length, text: heading[2] as string });
      continue;
    }
    if (line.trim().startsWith('|') && /^\s*\|?\s*:?-{3,}/.test(lines[i + 1] ?? '')) {
      flush();
      const head = cells(line);
      const rows: string[][] = [];
      i += 2;
      while (i < lines.length && (lines[i] as string).trim().startsWith('|')) rows.push(cells(lines[i++] as string));
      i--;
      blocks.push({ kind: 'table', head, rows });
      continue;
    }
    paragraph.push(line.trim());
  }
  flush();
  return blocks;
}

const INLINE = /\*\*(.+?)\*\*|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)|\*([^*]+)\*/g;

function safeHref(href: string): string | undefined {
  if (/^(https?:|mailto:)/i.test(href) || (href.startsWith('/') && !href.startsWith('//'))) return href;
  return undefined;
}

export function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    const at = match.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    if (match[1] !== undefined) out.push(<strong>{inline(match[1])}</strong>);
    else if (match[2] !== undefined) out.push(<code>{match[2]}</code>);
    else if (match[3] !== undefined) {
      const href = safeHref(match[4] as string);
      out.push(href ? <a href={href}>{inline(match[3])}</a> : match[0]);
    } else if (match[5] !== undefined) out.push(<em>{inline(match[5])}</em>);
    last = at + match[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** Headings start one level below the page's (a page has its own h1) and never skip a level (`###` after the title is an h2). */
function headingLevels(blocks: Block[], base: number): Map<number, number> {
  const levels = new Map<number, number>();
  const present = blocks.filter((b) => b.kind === 'heading').map((b) => (b as { level: number }).level);
  const top = present.length ? Math.min(...present) : 1;
  let last = base - 1;
  blocks.forEach((block, index) => {
    if (block.kind !== 'heading') return;
    last = Math.min(6, base + block.level - top, last + 1);
    levels.set(index, last);
  });
  return levels;
}

function renderBlocks(blocks: Block[], base: number): JSX.Element[] {
  const levels = headingLevels(blocks, base);
  return blocks.map((block, index) => {
    const key = String(index);
    switch (block.kind) {
      case 'heading': {
        const Tag = `h${levels.get(index) ?? base}` as 'h2';
        return <Tag key={key}>{inline(block.text)}</Tag>;
      }
      case 'paragraph':
        return <p key={key}>{inline(block.text)}</p>;
      case 'list': {
        const Tag = block.ordered ? 'ol' : 'ul';
        return (
          <Tag key={key}>
            {block.items.map((item, i) => (
              <li key={String(i)}>
                {inline(item.text)}
                {item.children.length ? renderBlocks(item.children, base) : null}
              </li>
            ))}
          </Tag>
        );
      }
      default:
        return (
          <div class="table-wrap" key={key}>
            <table class="table">
              <thead>
                <tr>
                  {block.head.map((cell, i) => (
                    <th scope="col" key={String(i)}>
                      {inline(cell)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {block.rows.map((row, r) => (
                  <tr key={String(r)}>
                    {row.map((cell, i) => (
                      <td key={String(i)} data-label={block.head[i] ?? ''}>
                        {inline(cell)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        );
    }
  });
}

export function Markdown({ source, headingLevel = 2 }: { source: string; headingLevel?: number }) {
  return <div class="prose">{renderBlocks(parseMarkdown(source), headingLevel)}</div>;
}
